/** Loopback names and addresses: `localhost`, 127.0.0.0/8 and ::1 (bracketed or not). */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '::1' ||
    name === '::ffff:127.0.0.1' ||
    /^127(\.\d{1,3}){3}$/.test(name)
  );
}
