import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { configDescriptions, loadConfig } from '../../src/config.js';

const knownKeys = (): string[] => Object.keys(configDescriptions);
import { loadCdsClients } from '../../src/http/client-auth.js';

// Static checks of the Kubernetes manifests in docker/k8s: no cluster here, so every file is parsed
// and the fields a deployment depends on are checked against each other and against the service.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const k8sDir = join(root, 'docker', 'k8s');

const Labels = z.record(z.string(), z.string());
const Manifest = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.object({ name: z.string().min(1), labels: Labels.optional() }).optional(),
});

const HttpProbe = z.object({
  httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }),
});
const Quantities = z.object({ cpu: z.string(), memory: z.string() });
const Deployment = z.object({
  kind: z.literal('Deployment'),
  metadata: z.object({ name: z.string() }),
  spec: z.object({
    replicas: z.number(),
    selector: z.object({ matchLabels: Labels }),
    template: z.object({
      metadata: z.object({ labels: Labels }),
      spec: z.object({
        securityContext: z.object({ runAsNonRoot: z.boolean(), runAsUser: z.number() }),
        containers: z
          .array(
            z.object({
              name: z.string(),
              image: z.string(),
              ports: z.array(z.object({ name: z.string(), containerPort: z.number() })),
              envFrom: z.array(
                z.object({
                  configMapRef: z.object({ name: z.string() }).optional(),
                  secretRef: z.object({ name: z.string() }).optional(),
                }),
              ),
              readinessProbe: HttpProbe,
              livenessProbe: HttpProbe,
              resources: z.object({ requests: Quantities, limits: Quantities }),
              securityContext: z.object({
                readOnlyRootFilesystem: z.boolean(),
                allowPrivilegeEscalation: z.boolean(),
                capabilities: z.object({ drop: z.array(z.string()) }),
              }),
              volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })),
            }),
          )
          .length(1),
        volumes: z.array(
          z.object({
            name: z.string(),
            emptyDir: z.object({}).passthrough().optional(),
            configMap: z.object({ name: z.string() }).optional(),
          }),
        ),
      }),
    }),
  }),
});
const Service = z.object({
  kind: z.literal('Service'),
  spec: z.object({
    selector: Labels,
    ports: z.array(z.object({ port: z.number(), targetPort: z.union([z.string(), z.number()]) })),
  }),
});
const Hpa = z.object({
  apiVersion: z.literal('autoscaling/v2'),
  kind: z.literal('HorizontalPodAutoscaler'),
  spec: z.object({
    scaleTargetRef: z.object({ kind: z.string(), name: z.string() }),
    minReplicas: z.number(),
    maxReplicas: z.number(),
  }),
});
const Pdb = z.object({
  apiVersion: z.literal('policy/v1'),
  kind: z.literal('PodDisruptionBudget'),
  spec: z.object({ minAvailable: z.number(), selector: z.object({ matchLabels: Labels }) }),
});
const ConfigMap = z.object({
  kind: z.literal('ConfigMap'),
  metadata: z.object({ name: z.string() }),
  data: z.record(z.string(), z.string()),
});
const Secret = z.object({
  kind: z.literal('Secret'),
  metadata: z.object({ name: z.string() }),
  stringData: z.record(z.string(), z.string()),
});

const files = readdirSync(k8sDir).filter((file) => /\.ya?ml$/.test(file));
const documents = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((doc) => ({
    file,
    errors: doc.errors.map((error) => error.message),
    value: doc.toJS() as unknown,
  })),
);
const ofKind = <T>(schema: z.ZodType<T>, kind: string): T[] =>
  documents
    .filter((doc) => Manifest.safeParse(doc.value).data?.kind === kind)
    .map((doc) => schema.parse(doc.value));

const [deployment] = ofKind(Deployment, 'Deployment');
const container = deployment?.spec.template.spec.containers[0];
const podLabels = deployment?.spec.template.metadata.labels ?? {};
const configMaps = ofKind(ConfigMap, 'ConfigMap');
const secrets = ofKind(Secret, 'Secret');

/** True when every label of `selector` is on the pods. */
const selects = (selector: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => podLabels[key] === value);

describe('docker/k8s', () => {
  test('When every manifest is parsed, each document is valid YAML with apiVersion, kind and a name', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const doc of documents) {
      expect({ file: doc.file, errors: doc.errors }).toEqual({ file: doc.file, errors: [] });
    }
    const manifests = documents.map((doc) => Manifest.parse(doc.value));
    const unnamed = manifests.filter((m) => m.kind !== 'Kustomization' && !m.metadata?.name);
    expect(unnamed).toEqual([]);
  });

  test('When the kustomization is applied, it lists every manifest of the service (not the Secret example, not on-demand Jobs)', () => {
    const [kustomization] = documents.filter((doc) => doc.file === 'kustomization.yaml');
    const resources = z
      .object({ resources: z.array(z.string()) })
      .parse(kustomization?.value).resources;

    // Examples hold placeholders and Jobs run on demand: neither is applied with the service.
    const onDemand = (file: string) =>
      documents
        .filter((doc) => doc.file === file)
        .every((doc) => Manifest.parse(doc.value).kind === 'Job');
    const expected = files.filter(
      (file) => file !== 'kustomization.yaml' && !file.includes('.example.') && !onDemand(file),
    );
    expect([...resources].sort()).toEqual([...expected].sort());
  });

  test('When the Deployment runs, it keeps two non-root replicas on a read-only root filesystem with bounded resources', () => {
    expect(deployment?.spec.replicas).toBe(2);
    expect(selects(deployment?.spec.selector.matchLabels ?? {})).toBe(true);
    const pod = deployment?.spec.template.spec;
    expect(pod?.securityContext.runAsNonRoot).toBe(true);
    expect(pod?.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container?.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.image).toMatch(/:\d+\.\d+\.\d+$/);
    for (const kind of ['requests', 'limits'] as const) {
      expect(container?.resources[kind].cpu).toMatch(/^\d+(m)?$/);
      expect(container?.resources[kind].memory).toMatch(/^\d+(Mi|Gi)$/);
    }
    // The only writable place: an emptyDir at /tmp.
    const tmp = container?.volumeMounts.find((mount) => mount.mountPath === '/tmp');
    expect(pod?.volumes.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  test('When the probes run, readiness asks /readyz and liveness /healthz on the port the service listens on', () => {
    const port = container?.ports.find((p) => p.name === 'http');
    const env = Object.assign({}, ...configMaps.map((map) => map.data)) as Record<string, string>;

    expect(String(port?.containerPort)).toBe(env.PORT);
    expect(container?.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container?.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  });

  test('When the Service, autoscaler and disruption budget are applied, they select the Deployment and keep at least two replicas', () => {
    const [service] = ofKind(Service, 'Service');
    const [hpa] = ofKind(Hpa, 'HorizontalPodAutoscaler');
    const [pdb] = ofKind(Pdb, 'PodDisruptionBudget');

    expect(selects(service?.spec.selector ?? {})).toBe(true);
    expect(container?.ports.map((p) => p.name)).toContain(service?.spec.ports[0]?.targetPort);
    expect(hpa?.spec.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: deployment?.metadata.name,
    });
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa?.spec.maxReplicas).toBeGreaterThan(hpa?.spec.minReplicas ?? 0);
    expect(selects(pdb?.spec.selector.matchLabels ?? {})).toBe(true);
    expect(pdb?.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb?.spec.minAvailable).toBeLessThan(deployment?.spec.replicas ?? 0);
  });

  test('When the pods read their environment, the ConfigMap and Secret hold the shared-store URLs, the admin token and the clients file, all accepted by the configuration', () => {
    const refs = container?.envFrom ?? [];
    const configMap = configMaps.find((m) =>
      refs.some((r) => r.configMapRef?.name === m.metadata.name),
    );
    const secret = secrets.find((s) => refs.some((r) => r.secretRef?.name === s.metadata.name));
    expect(configMap).toBeDefined();
    expect(secret).toBeDefined();

    const env = { ...configMap?.data, ...secret?.stringData };
    expect(Object.keys(secret?.stringData ?? {}).sort()).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'REDIS_URL',
    ]);
    expect(new URL(env.DATABASE_URL ?? '').protocol).toMatch(/^postgres(ql)?:$/);
    expect(new URL(env.REDIS_URL ?? '').protocol).toMatch(/^rediss?:$/);
    for (const key of Object.keys(env)) {
      expect(knownKeys()).toContain(key);
    }
    expect(loadConfig({ NODE_ENV: 'production', ...env }).EMBEDDED_FHIR).toBe(false);
  });

  test('When CDS_CLIENTS_FILE is read in the pod, it is the mounted clients ConfigMap and holds a valid clients file', () => {
    const path = configMaps.map((m) => m.data.CDS_CLIENTS_FILE).find(Boolean) ?? '';
    const mount = container?.volumeMounts.find((m) => dirname(path) === m.mountPath);
    const volume = deployment?.spec.template.spec.volumes.find((v) => v.name === mount?.name);
    const clients = configMaps.find((m) => m.metadata.name === volume?.configMap?.name);
    const content = clients?.data[basename(path)];
    expect(content).toBeDefined();

    const dir = mkdtempSync(join(tmpdir(), 'htc-k8s-clients-'));
    try {
      writeFileSync(join(dir, 'cds-clients.json'), content ?? '');
      expect(loadCdsClients(join(dir, 'cds-clients.json')).length).toBeGreaterThanOrEqual(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
