import { Router } from 'express';
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
<section class="panel" aria-labelledby="labs-heading">
<h2 id="labs-heading">Liver chemistries</h2>
<p class="status">H: above the reference range. Hover a value for its range.</p>
<div id="labs"><p class="status">No patient open.</p></div>
</section>
</main>
<noscript><p class="status">The demo EHR needs JavaScript.</p></noscript>
</body>
</html>
`;

/** `GET /`: the demo EHR page. Mounted only when the embedded FHIR server (with demo patients) is on. */
export function createDemoRouter(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.set(PRIVATE_PAGE_HEADERS).type('html').send(DEMO_PAGE);
  });
  return router;
}
