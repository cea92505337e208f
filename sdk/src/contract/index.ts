export * from './unified-event.ts';
export * from './raw-envelope.ts';
export * from './capture-line.ts';
export * from './validate.ts';
export { contractDocuments } from './documents.ts';
