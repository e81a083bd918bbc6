// Command groups beyond `config`, in the order they appear in `swt --help`.
import type { Command } from 'commander';
import { registerWst } from './wst.js';

export const registerers: Array<(program: Command) => void> = [registerWst];
