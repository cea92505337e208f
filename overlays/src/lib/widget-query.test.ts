import { describe, expect, it } from 'vitest';
import { widgetQuery } from './widget-query.ts';

const schema = {
  type: 'object',
  properties: {
    color: { type: 'string', default: '#ffffff' },
    size: { type: 'integer', default: 64 },
    shadow: { type: 'boolean', default: true },
    label: { type: 'string' },
  },
};

describe('a widget’s options as its URL query', () => {
  it('holds only what differs from the defaults, as text', () => {
    expect(widgetQuery(schema, { color: '#ffffff', size: 48, shadow: false, label: 'Hi & bye' })).toBe('size=48&shadow=false&label=Hi+%26+bye');
  });

  it('is empty when everything is as the schema says by default', () => {
    expect(widgetQuery(schema, { color: '#ffffff', size: 64, shadow: true, label: '' })).toBe('');
  });
});
