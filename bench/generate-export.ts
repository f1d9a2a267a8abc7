// Writes a synthetic FHIR Bulk Data export for `hepatic-trends sweep`: patient i is a copy of demo
// patient i mod 7 (same results, conditions and medications, new ids), so the cards each patient
// should get are those of its demo template. Files are split and half of them gzip-compressed, and
// the export carries lines the sweep must leave out (an Encounter per tenth patient, Observations
// of a patient who is not in the export). Usage: tsx bench/generate-export.ts DIR [PATIENTS] [NOW]

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { loadDemoBundle } from '../src/fhir-server/demo-bundle.js';

export interface GeneratedExport {
  patients: number;
  observations: number;
  /** Patient id → its demo template (e.g. `htc-demo-dili`). */
  templateOf(patientId: string): string;
}

/** Demo patients whose record must get no card. */
export const TEMPLATES_WITHOUT_CARDS = ['htc-demo-control'];

const PATIENTS_PER_FILE = 5_000;
/** Files per block of patients: a patient's resources are spread over several, by type. */
const FILES = 4;

export async function generateExport(
  dir: string,
  patients: number,
  now: Date,
): Promise<GeneratedExport> {
  mkdirSync(dir, { recursive: true });
  const templates = groupByPatient(loadDemoBundle(now).entry.map((e) => e.resource));
  const names = [...templates.keys()];
  const files = new Map<
    string,
    { stream: WriteStream | ReturnType<typeof createGzip>; out: WriteStream }
  >();
  let observations = 0;
  const write = async (type: string, part: number, resource: Record<string, unknown>) => {
    // Split every PATIENTS_PER_FILE patients; odd parts compressed; names say nothing of the type.
    const shifted = part + (type.length % FILES);
    const name = `part-${String(shifted).padStart(3, '0')}${shifted % 2 === 1 ? '.ndjson.gz' : '.ndjson'}`;
    let file = files.get(name);
    if (file === undefined) {
      const out = createWriteStream(join(dir, name));
      const stream = name.endsWith('.gz') ? createGzip() : out;
      if (stream !== out) {
        stream.pipe(out);
      }
      file = { stream, out };
      files.set(name, file);
    }
    if (!file.stream.write(`${JSON.stringify(resource)}\n`)) {
      await new Promise<void>((resolve) => file.stream.once('drain', () => resolve()));
    }
  };
  for (let i = 0; i < patients; i += 1) {
    const template = names[i % names.length] ?? '';
    const id = patientIdFor(i, template);
    const part = (i % FILES) + FILES * Math.floor(i / PATIENTS_PER_FILE);
    for (const resource of templates.get(template) ?? []) {
      const copy: Record<string, unknown> = {
        ...resource,
        id: resource.resourceType === 'Patient' ? id : `${String(resource.id)}-${i}`,
      };
      if (resource.resourceType !== 'Patient') {
        copy.subject = { reference: `Patient/${id}` };
      }
      // Orders name their drug by reference to a Medication, written once: `_include` must find it.
      if (resource.resourceType === 'MedicationRequest' && resource.medicationCodeableConcept) {
        const medicationId = `med-${template}`;
        delete copy.medicationCodeableConcept;
        copy.medicationReference = { reference: `Medication/${medicationId}` };
        if (i < names.length) {
          await write('Medication', part, {
            resourceType: 'Medication',
            id: medicationId,
            code: resource.medicationCodeableConcept,
          });
        }
      }
      observations += resource.resourceType === 'Observation' ? 1 : 0;
      await write(resource.resourceType as string, part, copy);
    }
    if (i % 10 === 0) {
      await write('Encounter', part, {
        resourceType: 'Encounter',
        id: `enc-${i}`,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${id}` },
      });
      await write('Observation', part, {
        resourceType: 'Observation',
        id: `orphan-${i}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '6768-6' }] },
        subject: { reference: `Patient/not-exported-${i}` },
        effectiveDateTime: now.toISOString(),
        valueQuantity: {
          value: 900,
          unit: 'U/L',
          system: 'http://unitsofmeasure.org',
          code: 'U/L',
        },
      });
    }
  }
  await Promise.all(
    [...files.values()].map(
      ({ stream, out }) =>
        new Promise<void>((resolve, reject) => {
          out.on('finish', resolve).on('error', reject);
          stream.end();
        }),
    ),
  );
  return {
    patients,
    observations,
    templateOf: (patientId) => /^p\d+-(.+)$/.exec(patientId)?.[1] ?? '',
  };
}

export function patientIdFor(index: number, template: string): string {
  return `p${index}-${template}`;
}

function groupByPatient(resources: readonly Record<string, unknown>[]) {
  const byPatient = new Map<string, Record<string, unknown>[]>();
  for (const resource of resources) {
    const subject = resource.subject as { reference?: string } | undefined;
    const id =
      resource.resourceType === 'Patient'
        ? String(resource.id)
        : subject?.reference?.replace('Patient/', '');
    if (id !== undefined) {
      byPatient.set(id, [...(byPatient.get(id) ?? []), resource]);
    }
  }
  return byPatient;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, count = '1000', now = new Date().toISOString()] = process.argv.slice(2);
  if (dir === undefined) {
    console.error('usage: tsx bench/generate-export.ts DIR [PATIENTS] [NOW]');
    process.exit(2);
  }
  const result = await generateExport(dir, Number(count), new Date(now));
  console.log(`${result.patients} patients, ${result.observations} Observations in ${dir}`);
}
