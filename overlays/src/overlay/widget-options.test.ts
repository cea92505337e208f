import { describe, expect, it } from 'vitest';
import {
  parseColor,
  parseFont,
  parseSoundUrl,
  readAlertOptions,
  readChatOptions,
  readCounterOptions,
  readLeaderboardOptions,
  readLookOptions,
  widgetFromLocation,
} from './widget-options.ts';

describe('widget options', () => {
  it('finds the widget in the path', () => {
    expect(widgetFromLocation({ pathname: '/overlay/alerts', search: '?token=x' })).toBe('alerts');
    expect(widgetFromLocation({ pathname: '/overlay/chat/', search: '' })).toBe('chat');
    expect(widgetFromLocation({ pathname: '/overlay.html', search: '?widget=goals' })).toBe('goals');
    expect(widgetFromLocation({ pathname: '/overlay/admin', search: '' })).toBeNull();
  });

  it('accepts colors and nothing that could leave a CSS value', () => {
    expect(parseColor('#ff0044')).toBe('#ff0044');
    expect(parseColor('ff0044')).toBe('#ff0044');
    expect(parseColor('rgba(0, 0, 0, 0.5)')).toBe('rgba(0, 0, 0, 0.5)');
    expect(parseColor('rgb(0 0 0 / 50%)')).toBe('rgb(0 0 0 / 50%)');
    expect(parseColor('hotpink')).toBe('hotpink');
    for (const bad of ['red;background:url(x)', 'red}body{', 'url(x)', 'expression(alert(1))', '#12', '"red"', '']) {
      expect(parseColor(bad)).toBeNull();
    }
  });

  it('quotes font families and refuses anything else', () => {
    expect(parseFont('Open Sans, sans-serif')).toBe('"Open Sans", sans-serif');
    expect(parseFont('Poppins')).toBe('"Poppins", sans-serif');
    expect(parseFont('x"; color: red')).toBeNull();
    expect(parseFont('a\\62 c')).toBeNull();
  });

  it('reads the look with defaults for bad values', () => {
    const look = readLookOptions(new URLSearchParams('color=%23abc&bg=nope;&position=bottom-right&fontSize=9999&debug=1'), {
      bg: '#111',
    });
    expect(look).toMatchObject({ color: '#abc', bg: '#111', position: 'bottom-right', fontSize: 28, debug: true });
    expect(readLookOptions(new URLSearchParams('position=middle')).position).toBe('top-left');
    expect(readLookOptions(new URLSearchParams('shadow=none')).shadow).toBeNull();
    expect(readLookOptions(new URLSearchParams('')).debug).toBe(false);
  });

  it('reads alert durations and the sound', () => {
    const options = readAlertOptions(new URLSearchParams('duration=3000&giftMs=9000&followMs=abc&sound=/sounds/ding.mp3'), 'http://localhost:3000/overlay/alerts?token=t');
    expect(options).toMatchObject({ duration: 3000, durations: { gift: 9000 }, sound: 'http://localhost:3000/sounds/ding.mp3' });
    expect(readAlertOptions(new URLSearchParams(''), 'http://h/').sound).toBeNull();
    expect(parseSoundUrl('javascript:alert(1)', 'http://h/')).toBeNull();
    expect(parseSoundUrl('data:audio/wav;base64,AAAA', 'http://h/')).toBeNull();
  });

  it('reads list sizes and choices', () => {
    expect(readChatOptions(new URLSearchParams('max=3&fadeMs=0')).max).toBe(3);
    expect(readChatOptions(new URLSearchParams('max=3&fadeMs=0')).fadeMs).toBe(0);
    expect(readLeaderboardOptions(new URLSearchParams('max=500&show=likers,bogus')).show).toEqual(['likers']);
    expect(readLeaderboardOptions(new URLSearchParams('max=500')).max).toBe(5);
    expect(readCounterOptions(new URLSearchParams('show=coins,likes&compact=1'))).toMatchObject({ show: ['coins', 'likes'], compact: true });
  });
});
