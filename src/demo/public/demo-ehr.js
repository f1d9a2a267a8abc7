/* global document, window, fetch, crypto, URL, URLSearchParams */
// The demo EHR: plays the part of a CDS client against this service's own HTTP API and the embedded
// FHIR server. Plain browser module; the markdown renderer and sanitiser are the bundled copies of
// marked and DOMPurify served by the service (no CDN).
import { marked } from '../vendor/marked.esm.js';
import DOMPurify from '../vendor/purify.es.mjs';

// The page lives at the service root; resolving from this file keeps it working behind a path prefix.
const APP_ROOT = new URL('../../', import.meta.url);
const FHIR_BASE = new URL('fhir', APP_ROOT).href;
const DEMO_PATIENT_PREFIX = 'htc-demo-';
const DEMO_USER = 'Practitioner/htc-demo-clinician';
// The embedded FHIR server accepts any bearer token; a real EHR would mint a short-lived, patient-scoped one.
const DEMO_TOKEN = 'demo-ehr-' + newUuid();
const MAX_LAB_PAGES = 5;

const INDICATOR_LABELS = { info: 'Info', warning: 'Warning', critical: 'Critical' };
const INDICATOR_ICONS = { info: 'i', warning: '!', critical: '!!' };

/**
 * crypto.randomUUID exists only in secure contexts (https or localhost); the demo may also be opened
 * over plain HTTP on a LAN name, so a version-4 UUID is built from getRandomValues there.
 */
function newUuid() {
  if (typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const elements = {
  form: document.getElementById('patient-form'),
  select: document.getElementById('patient-select'),
  banner: document.getElementById('patient-banner'),
  status: document.getElementById('hook-status'),
  cards: document.getElementById('cards'),
  labs: document.getElementById('labs'),
  orderForm: document.getElementById('order-form'),
  orderSelect: document.getElementById('order-select'),
  signOrder: document.getElementById('sign-orders'),
  draftOrders: document.getElementById('draft-orders'),
  orderStatus: document.getElementById('order-status'),
  orderCards: document.getElementById('order-cards'),
};

/** Small element builder: `h('p', { class: 'x' }, 'text', child)`; text is always set as text. */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

async function fetchJson(url, init) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!response.ok) {
    const message =
      (body && typeof body === 'object' && (body.message || body.error)) ||
      (body && body.issue && body.issue[0] && body.issue[0].diagnostics) ||
      response.statusText;
    const error = new Error(`HTTP ${response.status}: ${message}`);
    error.status = response.status;
    throw error;
  }
  return { status: response.status, body };
}

function fhirGet(pathOrUrl) {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : FHIR_BASE + '/' + pathOrUrl;
  return fetchJson(url, {
    headers: { Accept: 'application/fhir+json', Authorization: 'Bearer ' + DEMO_TOKEN },
  }).then((result) => result.body);
}

/** Follows `next` links, as the CDS service itself does, up to a small page limit. */
async function fhirSearch(path) {
  const resources = [];
  let bundle = await fhirGet(path);
  for (let page = 0; bundle && page < MAX_LAB_PAGES; page += 1) {
    for (const entry of bundle.entry || []) {
      if (entry.resource) {
        resources.push(entry.resource);
      }
    }
    const next = (bundle.link || []).find((link) => link.relation === 'next');
    bundle = next ? await fhirGet(next.url) : undefined;
  }
  return resources;
}

function formatName(patient) {
  const name = (patient.name || [])[0] || {};
  return [(name.given || []).join(' '), name.family].filter(Boolean).join(' ') || patient.id;
}

function formatMrn(patient) {
  const identifier = (patient.identifier || [])[0];
  return identifier ? identifier.value : '';
}

function ageInYears(birthDate) {
  if (!birthDate) {
    return null;
  }
  const born = new Date(birthDate);
  const now = new Date();
  let age = now.getUTCFullYear() - born.getUTCFullYear();
  const beforeBirthday =
    now.getUTCMonth() < born.getUTCMonth() ||
    (now.getUTCMonth() === born.getUTCMonth() && now.getUTCDate() < born.getUTCDate());
  return beforeBirthday ? age - 1 : age;
}

function codeText(concept) {
  if (!concept) {
    return '';
  }
  const coding = (concept.coding || [])[0] || {};
  return concept.text || coding.display || coding.code || '';
}

function formatDate(value) {
  return value ? String(value).slice(0, 10) : '';
}

// UCUM writes the micro prefix as "u"; labs also send "mc" or "mu". A clinician reads µ.
const MICRO_PREFIX = /(^|[/.*( ])(?:u|mc|mu)(?=(?:mol|kat|g|L|l|IU|\[IU\]|U)\b)/g;

function displayUnit(unit) {
  return String(unit || '').replace(MICRO_PREFIX, '$1µ');
}

function formatQuantity(quantity) {
  if (!quantity || quantity.value === undefined) {
    return '';
  }
  return `${quantity.comparator || ''}${quantity.value} ${displayUnit(quantity.unit || quantity.code)}`.trim();
}

async function loadPatients() {
  const patients = (await fhirSearch('Patient?_count=100'))
    .filter((p) => p.resourceType === 'Patient' && String(p.id).startsWith(DEMO_PATIENT_PREFIX))
    .sort((a, b) => formatMrn(a).localeCompare(formatMrn(b)));
  elements.select.replaceChildren(
    h('option', { value: '' }, 'Choose a patient…'),
    ...patients.map((p) =>
      h(
        'option',
        { value: p.id },
        `${formatName(p)} (${formatMrn(p)}, ${p.gender || 'unknown'}, ${ageInYears(p.birthDate) ?? '?'} y)`,
      ),
    ),
  );
  return patients;
}

function renderBanner(patient, conditions, medications) {
  const problems = conditions.map((c) => codeText(c.code)).filter(Boolean);
  const drugs = medications.map((m) => codeText(m.medicationCodeableConcept)).filter(Boolean);
  elements.banner.replaceChildren(
    h(
      'dl',
      { class: 'banner-list' },
      h('dt', {}, 'Name'),
      h('dd', { 'data-testid': 'patient-name' }, formatName(patient)),
      h('dt', {}, 'MRN'),
      h('dd', {}, formatMrn(patient)),
      h('dt', {}, 'Sex, age'),
      h('dd', {}, `${patient.gender || 'unknown'}, ${ageInYears(patient.birthDate) ?? '?'} years`),
      h('dt', {}, 'Problems'),
      h('dd', {}, problems.length > 0 ? problems.join('; ') : 'none recorded'),
      h('dt', {}, 'Medications'),
      h('dd', {}, drugs.length > 0 ? drugs.join('; ') : 'none active'),
    ),
  );
}

function referenceRangeText(observation) {
  const range = (observation.referenceRange || [])[0];
  if (!range) {
    return '—';
  }
  const low = range.low ? range.low.value : '';
  const high = range.high ? range.high.value : '';
  return `${low}–${high}`;
}

/** The ULN the service resolved for this result (its own range, else the age/sex default). */
function limitText(observation, limit) {
  const unit = displayUnit(
    observation.valueQuantity && (observation.valueQuantity.unit || observation.valueQuantity.code),
  );
  const origin = limit.ulnSource === 'reference-range' ? 'reference range' : 'default limit';
  return `ULN ${limit.uln} ${unit} (${origin}); ${limit.xUln}×ULN`;
}

/** Results the engine does not read (other analytes) fall back to their own reference range. */
function isHighByRange(observation) {
  const range = (observation.referenceRange || [])[0];
  const value = observation.valueQuantity && observation.valueQuantity.value;
  return Boolean(range && range.high && typeof value === 'number' && value > range.high.value);
}

function renderLabCell(observation, limits) {
  if (!observation) {
    return h('td', { class: 'num' }, '');
  }
  const limit = limits[observation.id];
  const above = limit ? limit.above : isHighByRange(observation);
  const title = limit
    ? limitText(observation, limit)
    : `Reference range ${referenceRangeText(observation)}`;
  return h(
    'td',
    { class: 'num', title, 'data-above-uln': above ? 'true' : null },
    formatQuantity(observation.valueQuantity),
    above ? h('abbr', { class: 'flag', title: 'above the upper limit of normal' }, ' H') : null,
  );
}

/** Asks the service which results lie above their ULN; the flowsheet still renders if it cannot. */
async function fetchFlowsheetLimits(patient, observations) {
  try {
    const response = await fetchJson(new URL('demo/flowsheet-limits', APP_ROOT), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ patient, observations }),
    });
    return (response.body && response.body.limits) || {};
  } catch {
    return {};
  }
}

/** One row per collection date, one column per test: the way EHR flowsheets show a liver panel. */
function renderLabs(patient, observations, limits) {
  const results = observations.filter((o) => o.status !== 'entered-in-error');
  if (results.length === 0) {
    elements.labs.replaceChildren(h('p', { class: 'status' }, 'No laboratory results on file.'));
    return;
  }
  const tests = [];
  const byDate = new Map();
  for (const observation of results) {
    const test = codeText(observation.code);
    const date = formatDate(observation.effectiveDateTime || observation.issued);
    if (!tests.includes(test)) {
      tests.push(test);
    }
    if (!byDate.has(date)) {
      byDate.set(date, new Map());
    }
    const row = byDate.get(date);
    if (!row.has(test)) {
      row.set(test, observation);
    }
  }
  const dates = [...byDate.keys()].sort().reverse();
  elements.labs.replaceChildren(
    h(
      'div',
      { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'labs-caption' },
      h(
        'table',
        { class: 'labs' },
        h('caption', { id: 'labs-caption' }, 'Results, newest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Date'),
            tests.map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          dates.map((date) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, h('time', { datetime: date }, date)),
              tests.map((t) => renderLabCell(byDate.get(date).get(t), limits)),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderMarkdown(markdown) {
  const container = h('div', { class: 'card-detail' });
  container.innerHTML = DOMPurify.sanitize(marked.parse(markdown, { async: false }));
  // Wide tables in card details scroll inside the card instead of widening a narrow side panel.
  for (const table of container.querySelectorAll('table')) {
    const wrapper = h('div', {
      class: 'table-scroll',
      tabindex: '0',
      role: 'region',
      'aria-label': 'Table in card detail',
    });
    table.replaceWith(wrapper);
    wrapper.append(table);
  }
  for (const link of container.querySelectorAll('a[href]')) {
    link.setAttribute('target', '_blank');
    link.setAttribute('rel', 'noopener noreferrer');
  }
  return container;
}

async function sendFeedback(serviceId, item, output) {
  output.textContent = 'Sending feedback…';
  try {
    const result = await fetchJson(new URL(`cds-services/${serviceId}/feedback`, APP_ROOT), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ feedback: [{ ...item, outcomeTimestamp: new Date().toISOString() }] }),
    });
    output.textContent = `Feedback accepted by the service (HTTP ${result.status}).`;
    output.dataset.result = 'accepted';
  } catch (error) {
    output.textContent = `Feedback was not accepted: ${error.message}`;
    output.dataset.result = 'rejected';
  }
}

function renderSuggestions(serviceId, card, output, onApply) {
  const preview = h('div', { class: 'suggestion-preview', hidden: true, 'aria-live': 'polite' });
  const buttons = card.suggestions.map((suggestion) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: suggestion.isRecommended ? 'suggestion recommended' : 'suggestion',
        'aria-pressed': 'false',
      },
      suggestion.label,
    );
    button.addEventListener('click', async () => {
      button.setAttribute('aria-pressed', 'true');
      const actions = suggestion.actions || [];
      preview.replaceChildren(
        h(
          'h4',
          {},
          onApply
            ? `Applied to the order list: ${suggestion.label}`
            : `Would ${actions.length === 1 ? 'create' : 'apply'}: ${suggestion.label}`,
        ),
        ...actions.map((action) =>
          h(
            'div',
            { class: 'action' },
            h('p', {}, `${action.type}: ${action.description}`),
            action.resource
              ? h(
                  'pre',
                  {
                    class: 'resource-json',
                    tabindex: '0',
                    'data-resource-type': action.resource.resourceType,
                  },
                  JSON.stringify(action.resource, null, 2),
                )
              : null,
          ),
        ),
      );
      preview.hidden = false;
      if (onApply) {
        onApply(suggestion);
        for (const other of buttons) {
          other.disabled = true;
        }
      }
      if (suggestion.uuid) {
        await sendFeedback(
          serviceId,
          { card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: suggestion.uuid }] },
          output,
        );
      }
    });
    return button;
  });
  return h(
    'div',
    { class: 'suggestions' },
    h('h4', {}, 'Suggestions'),
    h('div', { class: 'suggestion-buttons' }, buttons),
    preview,
  );
}

function renderOverride(serviceId, card, output) {
  const reasons = card.overrideReasons || [];
  const selectId = `override-reason-${card.uuid}`;
  const commentId = `override-comment-${card.uuid}`;
  const select = h(
    'select',
    { id: selectId },
    h('option', { value: '' }, reasons.length > 0 ? 'Choose a reason…' : 'No reason given'),
    reasons.map((reason, index) =>
      h('option', { value: String(index) }, reason.display || reason.code),
    ),
  );
  const comment = h('input', {
    id: commentId,
    type: 'text',
    maxlength: '500',
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'override' },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Override this card'),
      h('label', { for: selectId }, 'Reason'),
      select,
      h('label', { for: commentId }, 'Comment (optional)'),
      comment,
      h('button', { type: 'submit' }, 'Override'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = select.value === '' ? undefined : reasons[Number(select.value)];
    const overrideReason = {};
    if (reason) {
      overrideReason.reason = { code: reason.code, system: reason.system, display: reason.display };
    }
    if (comment.value.trim() !== '') {
      overrideReason.userComment = comment.value.trim();
    }
    await sendFeedback(
      serviceId,
      { card: card.uuid, outcome: 'overridden', overrideReason },
      output,
    );
  });
  return form;
}

function renderLinks(links) {
  return h(
    'ul',
    { class: 'card-links' },
    links.map((link) =>
      h(
        'li',
        {},
        link.type === 'smart'
          ? h('span', {}, `${link.label} (SMART app: not launched by this demo)`)
          : h('a', { href: link.url, target: '_blank', rel: 'noopener noreferrer' }, link.label),
      ),
    ),
  );
}

function renderCard(serviceId, card, index, onApply) {
  const indicator = INDICATOR_LABELS[card.indicator] ? card.indicator : 'info';
  const summaryId = `card-summary-${index}`;
  const output = h('p', { class: 'feedback-result', role: 'status' });
  const source = card.source || {};
  return h(
    'article',
    {
      class: `card card-${indicator}`,
      'aria-labelledby': summaryId,
      'data-indicator': indicator,
      'data-card-uuid': card.uuid,
      'data-service': serviceId,
    },
    h(
      'p',
      { class: 'card-meta' },
      h(
        'span',
        { class: `indicator indicator-${indicator}` },
        h('span', { class: 'indicator-icon', 'aria-hidden': 'true' }, INDICATOR_ICONS[indicator]),
        INDICATOR_LABELS[indicator],
      ),
      h(
        'span',
        { class: 'card-source' },
        'Source: ',
        source.url
          ? h('a', { href: source.url, target: '_blank', rel: 'noopener noreferrer' }, source.label)
          : source.label || 'unknown',
      ),
    ),
    h('h3', { id: summaryId, class: 'card-summary' }, card.summary),
    card.detail ? renderMarkdown(card.detail) : null,
    (card.suggestions || []).length > 0
      ? renderSuggestions(serviceId, card, output, onApply)
      : null,
    (card.links || []).length > 0 ? renderLinks(card.links) : null,
    renderOverride(serviceId, card, output),
    output,
  );
}

async function firePatientView(patientId) {
  const discovery = await fetchJson(new URL('cds-services', APP_ROOT));
  const services = (discovery.body.services || []).filter((s) => s.hook === 'patient-view');
  const results = await Promise.all(
    services.map(async (service) => {
      const started = window.performance.now();
      const response = await fetchJson(new URL(`cds-services/${service.id}`, APP_ROOT), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        // Like a real EHR with no prefetch support: the service fetches what it needs with the token.
        body: JSON.stringify({
          hook: 'patient-view',
          hookInstance: newUuid(),
          fhirServer: FHIR_BASE,
          fhirAuthorization: {
            access_token: DEMO_TOKEN,
            token_type: 'Bearer',
            expires_in: 300,
            scope:
              'patient/Patient.read patient/Observation.read patient/Condition.read patient/MedicationRequest.read',
            subject: 'demo-ehr',
            patient: patientId,
          },
          context: { userId: DEMO_USER, patientId },
        }),
      });
      return {
        service,
        cards: response.body.cards || [],
        ms: Math.round(window.performance.now() - started),
      };
    }),
  );
  return results;
}

async function openChart(patientId, patients) {
  const patient = patients.find((p) => p.id === patientId);
  if (!patient) {
    return;
  }
  window.history.replaceState(null, '', '#patient=' + encodeURIComponent(patientId));
  resetOrderPanel(patientId);
  elements.cards.replaceChildren();
  elements.cards.setAttribute('aria-busy', 'true');
  elements.status.textContent = 'Firing patient-view…';
  elements.labs.replaceChildren(h('p', { class: 'status' }, 'Loading results…'));
  const encoded = encodeURIComponent(patientId);
  const labsAndContext = Promise.all([
    fhirSearch(`Observation?patient=${encoded}&_sort=-date&_count=100`),
    fhirSearch(`Condition?patient=${encoded}`),
    fhirSearch(`MedicationRequest?patient=${encoded}&status=active`),
  ]).then(async ([observations, conditions, medications]) => {
    renderBanner(patient, conditions, medications);
    renderLabs(patient, observations, await fetchFlowsheetLimits(patient, observations));
  });
  const hooks = firePatientView(patientId).then((results) => {
    const cards = results.flatMap((r) =>
      r.cards.map((card) => ({ serviceId: r.service.id, card })),
    );
    elements.cards.replaceChildren(...cards.map((c, i) => renderCard(c.serviceId, c.card, i)));
    const timing = results.map((r) => `${r.service.id} in ${r.ms} ms`).join(', ');
    elements.status.textContent =
      cards.length === 0
        ? `No cards: nothing needs attention (${timing}).`
        : `${cards.length} card${cards.length === 1 ? '' : 's'} (${timing}).`;
    elements.status.dataset.state = 'done';
  });
  const outcomes = await Promise.allSettled([labsAndContext, hooks]);
  elements.cards.setAttribute('aria-busy', 'false');
  const [labsOutcome, hooksOutcome] = outcomes;
  if (labsOutcome.status === 'rejected') {
    elements.labs.replaceChildren(
      h('p', { class: 'error' }, `Could not load results: ${labsOutcome.reason.message}`),
    );
  }
  if (hooksOutcome.status === 'rejected') {
    elements.status.textContent = `The CDS service call failed: ${hooksOutcome.reason.message}`;
    elements.status.dataset.state = 'error';
  }
}

// ---- Order a medication: order-select on choosing a drug, order-sign on "Sign" -----------------

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

/** What the prescriber can pick; coded at product level, as EHRs code medication orders. */
const DEMO_MEDICATIONS = [
  {
    key: 'amoxicillin-clavulanate',
    label: 'Amoxicillin–clavulanate 875/125 mg tablet',
    coding: {
      system: RXNORM,
      code: '562508',
      display: 'amoxicillin 875 MG / clavulanate 125 MG Oral Tablet',
    },
  },
  {
    key: 'sulfamethoxazole-trimethoprim',
    label: 'Sulfamethoxazole–trimethoprim 800/160 mg tablet',
    coding: {
      system: RXNORM,
      code: '198335',
      display: 'sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet',
    },
  },
  // Text only: the demo claims no RxNorm code it has not checked, and the service matches names too.
  { key: 'lisinopril', label: 'Lisinopril 10 mg tablet' },
  { key: 'amlodipine', label: 'Amlodipine 5 mg tablet' },
];

const orderState = { patientId: null, drafts: [], signed: [] };

function buildDraftMedicationRequest(medication, patientId) {
  return {
    resourceType: 'MedicationRequest',
    id: 'draft-' + newUuid(),
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: {
      ...(medication.coding ? { coding: [medication.coding] } : {}),
      text: medication.label,
    },
    subject: { reference: 'Patient/' + patientId },
    authoredOn: new Date().toISOString(),
  };
}

function referenceOf(resource) {
  return `${resource.resourceType}/${resource.id}`;
}

function draftLabel(resource) {
  if (resource.resourceType === 'MedicationRequest') {
    return codeText(resource.medicationCodeableConcept);
  }
  const period = resource.occurrencePeriod;
  const when = period ? ` (${formatDate(period.start)} to ${formatDate(period.end)})` : '';
  return codeText(resource.code) + when;
}

function renderDraftOrders() {
  const items = orderState.drafts.map((resource) =>
    h(
      'li',
      { 'data-reference': referenceOf(resource), 'data-resource-type': resource.resourceType },
      `${draftLabel(resource)} · draft ${resource.resourceType}`,
    ),
  );
  const signed = orderState.signed.map((resource) =>
    h(
      'li',
      { class: 'signed', 'data-resource-type': resource.resourceType },
      `${draftLabel(resource)} · signed`,
    ),
  );
  elements.draftOrders.replaceChildren(...items, ...signed);
  elements.signOrder.disabled = orderState.drafts.length === 0;
  if (items.length + signed.length === 0) {
    elements.draftOrders.append(h('li', { class: 'status' }, 'No orders yet.'));
  }
}

/** Fires one order hook at every service that answers it and renders their cards in the order panel. */
async function fireOrderHook(hook, selections) {
  const patientId = orderState.patientId;
  elements.orderStatus.dataset.state = 'busy';
  elements.orderStatus.textContent = `Firing ${hook}…`;
  elements.orderCards.setAttribute('aria-busy', 'true');
  try {
    const discovery = await fetchJson(new URL('cds-services', APP_ROOT));
    const services = (discovery.body.services || []).filter((s) => s.hook === hook);
    const context = {
      userId: DEMO_USER,
      patientId,
      draftOrders: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: orderState.drafts.map((resource) => ({ resource })),
      },
      ...(selections ? { selections } : {}),
    };
    const results = await Promise.all(
      services.map(async (service) => {
        const response = await fetchJson(new URL(`cds-services/${service.id}`, APP_ROOT), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            hook,
            hookInstance: newUuid(),
            fhirServer: FHIR_BASE,
            fhirAuthorization: {
              access_token: DEMO_TOKEN,
              token_type: 'Bearer',
              expires_in: 300,
              scope: 'patient/Patient.read patient/Observation.read',
              subject: 'demo-ehr',
              patient: patientId,
            },
            context,
          }),
        });
        return { service, cards: response.body.cards || [] };
      }),
    );
    if (orderState.patientId !== patientId) {
      return [];
    }
    const cards = results.flatMap((r) =>
      r.cards.map((card) => ({ serviceId: r.service.id, card })),
    );
    elements.orderCards.replaceChildren(
      ...cards.map((c, i) => renderCard(c.serviceId, c.card, `order-${i}`, applySuggestion)),
    );
    elements.orderStatus.textContent =
      cards.length === 0
        ? `${hook}: no cards.`
        : `${hook}: ${cards.length} card${cards.length === 1 ? '' : 's'}.`;
    elements.orderStatus.dataset.state = 'done';
    elements.orderStatus.dataset.hook = hook;
    return cards;
  } catch (error) {
    elements.orderStatus.textContent = `The ${hook} call failed: ${error.message}`;
    elements.orderStatus.dataset.state = 'error';
    return null;
  } finally {
    elements.orderCards.setAttribute('aria-busy', 'false');
  }
}

/** Applies an accepted suggestion to the order list, as an EHR would: delete drops a draft, create adds one. */
function applySuggestion(suggestion) {
  for (const action of suggestion.actions || []) {
    if (action.type === 'delete' && action.resourceId) {
      orderState.drafts = orderState.drafts.filter((r) => referenceOf(r) !== action.resourceId);
    } else if (action.type === 'create' && action.resource) {
      orderState.drafts.push({
        ...action.resource,
        id: action.resource.id || 'draft-' + newUuid(),
      });
    }
  }
  renderDraftOrders();
  elements.orderStatus.textContent = `Applied: ${suggestion.label}.`;
}

async function selectMedication(key) {
  const medication = DEMO_MEDICATIONS.find((m) => m.key === key);
  if (!medication || !orderState.patientId) {
    return;
  }
  const draft = buildDraftMedicationRequest(medication, orderState.patientId);
  orderState.drafts.push(draft);
  renderDraftOrders();
  await fireOrderHook('order-select', [referenceOf(draft)]);
}

async function signOrders() {
  if (orderState.drafts.length === 0) {
    return;
  }
  const cards = await fireOrderHook('order-sign');
  if (cards !== null && cards.length === 0) {
    orderState.signed.push(...orderState.drafts);
    orderState.drafts = [];
    renderDraftOrders();
    elements.orderStatus.textContent = 'order-sign: no cards. Orders signed.';
  }
}

function resetOrderPanel(patientId) {
  orderState.patientId = patientId;
  orderState.drafts = [];
  orderState.signed = [];
  elements.orderSelect.disabled = !patientId;
  elements.orderSelect.value = '';
  elements.orderCards.replaceChildren();
  elements.orderStatus.textContent = patientId
    ? 'Choose a medication: the EHR fires order-select, then order-sign when you sign.'
    : 'Open a chart to order.';
  delete elements.orderStatus.dataset.state;
  renderDraftOrders();
}

function setUpOrderPanel() {
  elements.orderSelect.replaceChildren(
    h('option', { value: '' }, 'Choose a medication…'),
    ...DEMO_MEDICATIONS.map((m) => h('option', { value: m.key }, m.label)),
  );
  elements.orderSelect.addEventListener('change', () => {
    const key = elements.orderSelect.value;
    elements.orderSelect.value = '';
    void selectMedication(key);
  });
  elements.orderForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void signOrders();
  });
  resetOrderPanel(null);
}

async function start() {
  setUpOrderPanel();
  let patients = [];
  try {
    patients = await loadPatients();
  } catch (error) {
    elements.status.textContent = `Could not list patients from ${FHIR_BASE}: ${error.message}`;
    return;
  }
  elements.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void openChart(elements.select.value, patients);
  });
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get('patient');
  if (fromHash && patients.some((p) => p.id === fromHash)) {
    elements.select.value = fromHash;
    await openChart(fromHash, patients);
  }
  document.body.dataset.ready = 'true';
}

void start();
