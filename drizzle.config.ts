import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './host/src/store/schema.ts',
  out: './drizzle',
});
