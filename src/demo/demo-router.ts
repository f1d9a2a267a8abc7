import express, { Router } from 'express';
import { z } from 'zod';
import { assess } from '../engine/assess.js';
import { ANALYTE_LIST } from '../terminology/analytes.js';
import { PRIVATE_PAGE_HEADERS } from '../trend/html.js';

// The demo EHR is a static shell; its script (src/demo/public/demo-ehr.js) does what an EHR would:
// lists patients from the FHIR server, shows their labs, calls the CDS services over HTTP and
// renders the cards. Everything is same-origin, so the default CSP (script-src 'self') holds.

const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Demo EHR · Hepatic Trends CDS</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/demo/demo.css">
<script type="module" src="assets/demo/demo-ehr.js"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to the patient chart</a>
<header class="ehr-bar">
<h1>Demo EHR</h1>
<p>Synthetic patients from the embedded FHIR server. Cards come from this service's CDS Hooks API, called as an EHR would call it.</p>
</header>
<main id="main" class="layout">
<section class="panel" aria-labelledby="patient-heading">
<h2 id="patient-heading">Patient</h2>
<form id="patient-form" class="patient-form">
<label for="patient-select">Demo patient</label>
<select id="patient-select" name="patient" required>
<option value="">Loading patients…</option>
</select>
<button type="submit" id="open-chart">Open chart</button>
</form>
<div id="patient-banner" class="patient-banner" aria-live="polite"></div>
</section>
<section class="panel" aria-labelledby="cards-heading">
<h2 id="cards-heading">Decision support</h2>
<p id="hook-status" class="status" role="status">Choose a patient and open the chart: the EHR then fires <code>patient-view</code>.</p>
<div id="cards" class="cards"></div>
</section>
<section class="panel" aria-labelledby="order-heading">
<h2 id="order-heading">Order a medication</h2>
<form id="order-form" class="order-form">
<label for="order-select">Medication</label>
<select id="order-select" name="medication" disabled>
<option value="">Open a chart first…</option>
</select>
<button type="submit" id="sign-orders" disabled>Sign</button>
</form>
<h3 class="order-list-heading">Orders</h3>
<ul id="draft-orders" class="draft-orders"></ul>
<p id="order-status" class="status" role="status">Open a chart to order.</p>
<div id="order-cards" class="cards"></div>
</section>
<section class="panel" aria-labelledby="labs-heading">
<h2 id="labs-heading">Liver chemistries</h2>
<p class="status">H: above the upper limit of normal (the result's own range, else the default for the patient's age and sex). Hover a value for its limit.</p>
<div id="labs"><p class="status">No patient open.</p></div>
</section>
</main>
<noscript><p class="status">The demo EHR needs JavaScript.</p></noscript>
</body>
</html>
`;

/** Where the demo EHR asks which flowsheet values lie above their ULN. */
export const FLOWSHEET_LIMITS_PATH = '/demo/flowsheet-limits';

// The flowsheet shows every result on file, not only the look-back window of the cards.
const FLOWSHEET_LOOKBACK_DAYS = 36_500;

const FlowsheetLimitsRequestSchema = z.object({
  patient: z.looseObject({ resourceType: z.literal('Patient') }),
  observations: z.array(z.looseObject({ resourceType: z.literal('Observation') })).max(2000),
});

export interface FlowsheetLimit {
  /** The ULN in the unit the lab reported the value in. */
  uln: number;
  xUln: number;
  above: boolean;
  ulnSource: string;
}

/**
 * `GET /`: the demo EHR page. `POST /demo/flowsheet-limits`: the ULN of each result as the engine
 * resolves it (the result's own range, else the age- and sex-specific default), so the flowsheet
 * flags exactly what the cards count as raised. Mounted only with the embedded FHIR server.
 */
export function createDemoRouter(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.set(PRIVATE_PAGE_HEADERS).type('html').send(DEMO_PAGE);
  });
  router.post(FLOWSHEET_LIMITS_PATH, express.json({ limit: '2mb' }), (req, res) => {
    const parsed = FlowsheetLimitsRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'invalid_request',
        message: 'expected { patient: Patient, observations: Observation[] }',
        issues: parsed.error.issues.map(({ code, path, message }) => ({ code, path, message })),
      });
      return;
    }
    res.set('Cache-Control', 'no-store').json({ limits: computeFlowsheetLimits(parsed.data) });
  });
  return router;
}

/** The engine's ULN for every result it accepts, keyed by Observation id. */
export function computeFlowsheetLimits(input: {
  patient: Record<string, unknown>;
  observations: ReadonlyArray<Record<string, unknown>>;
}): Record<string, FlowsheetLimit> {
  const assessment = assess({
    // Unvalidated JSON on purpose: the engine reads Observations defensively, field by field.
    observations: input.observations as unknown as fhir4.Observation[],
    patient: input.patient as unknown as fhir4.Patient,
    now: new Date(),
    lookbackDays: FLOWSHEET_LOOKBACK_DAYS,
  });
  const limits: Record<string, FlowsheetLimit> = {};
  for (const analyte of ANALYTE_LIST) {
    for (const point of assessment.series[analyte].points) {
      // The engine keeps the ULN in its canonical unit; the flowsheet shows the lab's unit.
      const reported = point.reported ?? { value: point.value, unit: point.unit };
      // Three significant digits, as limits are published: a default of 20.5 µmol/L reads as
      // 1.20 mg/dL, and a result of exactly 1.2 mg/dL sits at the limit, not above it.
      const uln = Number(((point.uln * reported.value) / point.value).toPrecision(3));
      limits[point.observationId] = {
        uln,
        xUln: Number((reported.value / uln).toFixed(2)),
        above: reported.value > uln,
        ulnSource: point.ulnSource,
      };
    }
  }
  return limits;
}
