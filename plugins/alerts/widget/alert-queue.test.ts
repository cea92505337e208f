import { describe, expect, it } from 'vitest';
import { AlertQueue, alertDuration, parseAlertMessage, type AlertMessage } from './alert-queue.ts';

const alert = (alertId: string, overrides: Partial<AlertMessage> = {}): AlertMessage => ({
  type: 'gift',
  alertId,
  update: false,
  final: true,
  text: `alert ${alertId}`,
  durationMs: 1000,
  imageUrl: null,
  avatarUrl: null,
  count: null,
  ...overrides,
});

const queue = () => new AlertQueue({ durationOf: (a) => a.durationMs, gapMs: 100 });

describe('AlertQueue', () => {
  it('shows one alert at a time, in order, with a pause between', () => {
    const q = queue();
    q.receive(alert('a'), 0);
    q.receive(alert('b'), 10);
    expect(q.current?.alertId).toBe('a');
    expect(q.nextDeadline()).toBe(1000);
    q.advance(1000);
    expect(q.current).toBeNull();
    expect(q.nextDeadline()).toBe(1100);
    q.advance(1100);
    expect(q.current?.alertId).toBe('b');
    expect(q.current?.endsAt).toBe(2100);
    q.advance(2100);
    q.advance(2200);
    expect(q.current).toBeNull();
    expect(q.nextDeadline()).toBeNull();
  });

  it('updates a streak in place and restarts its time from the latest message', () => {
    const q = queue();
    q.receive(alert('s', { update: false, final: false, text: 'x1', count: 1 }), 0);
    q.receive(alert('s', { update: true, final: false, text: 'x5', count: 5 }), 800);
    expect(q.current).toMatchObject({ alertId: 's', text: 'x5', count: 5, shownAt: 0, endsAt: 1800, revision: 1 });
    expect(q.waiting).toHaveLength(0);
    q.advance(1000);
    expect(q.current?.text).toBe('x5');
  });

  it('updates a waiting alert where it stands in the queue', () => {
    const q = queue();
    q.receive(alert('a'), 0);
    q.receive(alert('s', { final: false, text: 'x1' }), 1);
    q.receive(alert('b'), 2);
    q.receive(alert('s', { update: true, text: 'x9' }), 3);
    expect(q.waiting.map((w) => [w.alertId, w.text])).toEqual([
      ['s', 'x9'],
      ['b', 'alert b'],
    ]);
  });

  it('shows an update whose alert it never saw, or that already ended, as a new alert', () => {
    const q = queue();
    q.receive(alert('s', { update: true, text: 'x7' }), 0);
    expect(q.current?.text).toBe('x7');
    q.advance(1000);
    q.receive(alert('s', { update: true, text: 'x8' }), 1050);
    q.advance(1100);
    expect(q.current?.text).toBe('x8');
  });

  it('keeps at most maxWaiting alerts waiting', () => {
    const q = new AlertQueue({ durationOf: () => 1000, maxWaiting: 2 });
    for (const id of ['a', 'b', 'c', 'd']) q.receive(alert(id), 0);
    expect(q.current?.alertId).toBe('a');
    expect(q.waiting.map((w) => w.alertId)).toEqual(['c', 'd']);
  });
});

describe('alertDuration', () => {
  it('takes the URL override, then the per-type one, then the plugin', () => {
    const gift = alert('g', { durationMs: 6000 });
    expect(alertDuration(gift, {})).toBe(6000);
    expect(alertDuration(gift, { giftMs: 3000, followMs: 1000 })).toBe(3000);
    expect(alertDuration(gift, { duration: 2000, giftMs: 3000 })).toBe(2000);
  });
});

describe('parseAlertMessage', () => {
  it('reads the alerts plugin message and rejects anything else', () => {
    expect(
      parseAlertMessage({
        type: 'gift',
        alertId: 'e1',
        update: true,
        final: false,
        text: '<b>x</b> sent Rose ×3',
        durationMs: 6000,
        user: { uniqueId: 'u', displayName: 'U', avatarUrl: 'javascript:alert(1)' },
        giftName: 'Rose',
        giftImageUrl: 'https://example.com/rose.png',
        count: 3,
        coins: 3,
      }),
    ).toEqual({
      type: 'gift',
      alertId: 'e1',
      update: true,
      final: false,
      text: '<b>x</b> sent Rose ×3',
      durationMs: 6000,
      imageUrl: 'https://example.com/rose.png',
      avatarUrl: null,
      count: 3,
    });
    expect(parseAlertMessage({ type: 'raid', alertId: 'x', text: 'hi' })).toBeNull();
    expect(parseAlertMessage({ type: 'follow', text: 'hi' })).toBeNull();
    expect(parseAlertMessage(null)).toBeNull();
    // A rules plugin overlay action is the rules plugin's to show (its Rule messages widget).
    expect(parseAlertMessage({ ruleId: 'big-gifts', text: 'Ann sent 5× Galaxy!', eventId: 'ab12' })).toBeNull();
  });
});
