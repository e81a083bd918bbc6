// Command groups beyond `config`, in the order they appear in `swt --help`.
import type { Command } from 'commander';
import { registerMain } from './main-job.js';
import { registerData } from './data.js';
import { registerWst } from './wst.js';
import { registerFeatures } from './features.js';
import { registerMc } from './mc.js';
import { registerBacktest } from './backtest.js';
import { registerValidate } from './validate.js';
import { registerCheckpoints } from './checkpoints.js';
import { registerLive } from './live.js';
import { registerServe } from './serve.js';
import { registerTrain } from './train.js';
import { registerPromote } from './promote.js';

export const registerers: Array<(program: Command) => void> = [registerMain, registerData, registerWst, registerFeatures, registerBacktest, registerMc, registerValidate, registerCheckpoints, registerTrain, registerLive, registerPromote, registerServe];
