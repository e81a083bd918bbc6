// Numbered migrations, applied in order and recorded in schema_version. Never edit a released
// migration: add a new one.
import { m001Data } from './001_data.js';
import { m004Validations } from './004_validations.js';

export interface Migration {
  version: number;
  name: string;
  up: string[];
}

export const migrations: Migration[] = [m001Data, m004Validations].sort((a, b) => a.version - b.version);
