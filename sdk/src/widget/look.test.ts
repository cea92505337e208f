import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { LOOK_DEFAULTS, lookOptionSchemas } from '../widget-look.ts';
import { cssColor, fontFamily, lookOf } from './look.ts';

describe('the look options', () => {
  const ajv = new Ajv({ strict: false });
  const accepts = (option: string, value: unknown) => ajv.validate(lookOptionSchemas({})[option]!, value);

  it('accept colours as hex (with or without #), rgb()/hsl() of numbers or a name, and nothing that could escape CSS', () => {
    for (const color of ['#fff', 'fff', '#ff000080', 'rgba(0, 0, 0, 0.5)', 'hsl(120 50% 50%)', 'rebeccapurple'])
      expect(accepts('color', color), color).toBe(true);
    for (const color of ['red;background:url(x)', 'url(x)', 'rgb(0,0,0', 'var(--x)', '#ggg', ''])
      expect(accepts('color', color), color).toBe(false);
    expect(accepts('shadow', 'none')).toBe(true);
  });

  it('accept font lists of plain names only', () => {
    expect(accepts('font', 'Poppins, sans-serif')).toBe(true);
    expect(accepts('font', 'Comic Sans MS')).toBe(true);
    for (const font of ['"x"', 'a;b', 'a,b,c,d,e,f', 'x}body{display:none'])
      expect(accepts('font', font), font).toBe(false);
  });

  it('have defaults that pass their own schemas', () => {
    for (const [option, schema] of Object.entries(lookOptionSchemas({}))) if ('default' in schema) expect(ajv.validate(schema, schema.default), option).toBe(true);
  });

  it("take the widget's defaults over the host's, and leave width unset", () => {
    const schemas = lookOptionSchemas({ position: 'bottom-right', fontSize: 30 });
    expect(schemas.position!.default).toBe('bottom-right');
    expect(schemas.fontSize!.default).toBe(30);
    expect(schemas.color!.default).toBe(LOOK_DEFAULTS.color);
    expect(schemas.width).not.toHaveProperty('default');
  });
});

describe('a look in CSS', () => {
  it('quotes named font families and adds a generic one', () => {
    expect(fontFamily('Poppins')).toBe('"Poppins", sans-serif');
    expect(fontFamily('Comic Sans MS,  cursive')).toBe('"Comic Sans MS", cursive');
    expect(fontFamily(' serif ')).toBe('serif');
  });

  it('gives bare hex colours their #', () => {
    expect(cssColor('ff0000', '#fff')).toBe('#ff0000');
    expect(cssColor('rgb(1, 2, 3)', '#fff')).toBe('rgb(1, 2, 3)');
    expect(cssColor(undefined, '#fff')).toBe('#fff');
  });

  it('reads the look from the options, the defaults where one is missing', () => {
    expect(lookOf({ position: 'top', fontSize: 40, color: 'abc', shadow: 'none', width: 600 })).toEqual({
      ...LOOK_DEFAULTS,
      font: fontFamily(LOOK_DEFAULTS.font),
      position: 'top',
      fontSize: 40,
      color: '#abc',
      shadow: 'none',
      width: 600,
    });
    expect(lookOf({ position: 'nowhere' }).position).toBe(LOOK_DEFAULTS.position);
  });
});
