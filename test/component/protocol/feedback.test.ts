import { readFileSync } from 'node:fs';
import nock from 'nock';
import request from 'supertest';
import { buildTestApp } from './harness.js';

const FEEDBACK_URL = '/cds-services/protocol-test/feedback';

function readExample(name: string): object {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/spec-examples/${name}`, import.meta.url), 'utf8'),
  );
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});

describe('POST /cds-services/{id}/feedback', () => {
  test('An accepted suggestion is stored with the service id and arrival time, and answered 200', async () => {
    const { app, feedbackStore } = await buildTestApp();

    const res = await request(app)
      .post(FEEDBACK_URL)
      .send(readExample('feedback-accepted.json'))
      .expect(200);

    expect(res.body).toEqual({ received: 1 });
    expect(await feedbackStore.list('protocol-test')).toEqual([
      {
        serviceId: 'protocol-test',
        receivedAt: '2026-03-01T12:00:00.000Z',
        item: {
          card: '4e0a3a1e-3283-4575-ab82-028d55fe2719',
          outcome: 'accepted',
          acceptedSuggestions: [{ id: 'e56e1945-20b3-4393-8503-a1a20fd73152' }],
          outcomeTimestamp: '2020-12-11T00:00:00Z',
        },
      },
    ]);
  });

  test('An override with a reason and comment keeps both', async () => {
    const { app, feedbackStore } = await buildTestApp();

    await request(app)
      .post(FEEDBACK_URL)
      .send(readExample('feedback-overridden-with-reason.json'))
      .expect(200);

    const [stored] = await feedbackStore.list();
    expect(stored?.item.overrideReason).toEqual({
      reason: { code: 'd7ecf885', system: 'https://example.com/cds-hooks/override-reason-system' },
      userComment: 'A comment entered by the clinician.',
    });
  });

  test('A feedback item with an unknown outcome is refused with 400 naming the field', async () => {
    const { app, feedbackStore } = await buildTestApp();

    const res = await request(app)
      .post(FEEDBACK_URL)
      .send({
        feedback: [
          {
            card: '4e0a3a1e-3283-4575-ab82-028d55fe2719',
            outcome: 'ignored',
            outcomeTimestamp: '2020-12-11T00:00:00Z',
          },
        ],
      })
      .expect(400);

    expect(res.body.issue[0].expression).toEqual(['feedback[0].outcome']);
    expect(res.body.issue[0].diagnostics).toMatch(/accepted.*overridden/);
    expect(await feedbackStore.list()).toEqual([]);
  });

  test('A body without a feedback array is refused with 400', async () => {
    const { app } = await buildTestApp();

    const res = await request(app).post(FEEDBACK_URL).send({ card: 'x' }).expect(400);

    expect(res.body.issue[0].expression).toEqual(['feedback']);
  });

  test('Feedback for an unknown service answers 404', async () => {
    const { app } = await buildTestApp();

    await request(app)
      .post('/cds-services/unknown/feedback')
      .send(readExample('feedback-overridden.json'))
      .expect(404);
  });
});
