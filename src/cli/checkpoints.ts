// `swt checkpoints …`: list, show, export and prune the model checkpoints; init a random one.
import { Option, type Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { action, common, makeContext, parseInteger, printJson, type CommonOpts } from './context.js';
import { initCheckpoint, listCheckpoints, openCheckpoint, pruneCheckpoints, type CheckpointRow } from '../agent/checkpoints/registry.js';
import { muzeroNetwork, onnxFile, type CheckpointMeta } from '../agent/checkpoints/checkpoint.js';
import { isPpoSpec } from '../agent/network/ppo-spec.js';
import { GRAPH_NAMES, graphOutputs } from '../agent/network/spec.js';

const REF_HELP = 'latest, best (highest evaluation SQN), an id from `swt checkpoints list`, or a checkpoint directory';

function line(r: CheckpointRow): string {
  const sqn = r.eval_sqn === null ? '-' : r.eval_sqn.toFixed(2);
  return `${r.id}  v${r.version}  ${r.created_at.slice(0, 19)}Z  arch ${r.architecture_id}  ${r.feature_set} (${r.feature_hash})  steps ${r.training_steps}  episodes ${r.episodes}  sqn ${sqn}  ${r.backend}`;
}

/** Metadata without the bulky architecture (its id stays; `show --json` includes the spec). */
function summary(meta: CheckpointMeta): Omit<CheckpointMeta, 'architecture'> {
  const { architecture: _a, ...rest } = meta;
  return rest;
}

export function registerCheckpoints(program: Command): void {
  const c = program.command('checkpoints').description('model checkpoints: list, show, export (ONNX), prune, init a random one');

  common(c.command('list'))
    .description('every recorded checkpoint, oldest first')
    .option('--json', 'print JSON: {"checkpoints": [...]}')
    .action(
      action(async (o: CommonOpts) => {
        const ctx = makeContext(o);
        const rows = await listCheckpoints(await ctx.openStore());
        if (o.json) printJson({ checkpoints: rows });
        else process.stdout.write(rows.length ? `${rows.map(line).join('\n')}\n` : 'no checkpoints (create one with `swt checkpoints init --seed S`)\n');
      }),
    );

  common(c.command('show'))
    .description('load a checkpoint (every file checked against its sha256) and print its metadata')
    .argument('<checkpoint>', REF_HELP)
    .option('--json', 'print the checkpoint metadata as JSON (with the architecture spec)')
    .action(
      action(async (ref: string, o: CommonOpts) => {
        const ctx = makeContext(o);
        const ck = await openCheckpoint(await ctx.openStore(), ref);
        if (o.json) {
          printJson({ ...ck.meta, dir: ck.dir, verified: true });
          return;
        }
        const m = ck.meta;
        const s = ck.spec;
        const arch = isPpoSpec(s)
          ? `ppo: obs ${s.obs_dim} x history ${s.history}, encoder ${s.encoder_units}, actor ${s.actor_hidden}, critic ${s.critic_hidden}`
          : `obs ${s.obs_dim}, hidden ${s.hidden}, blocks ${s.blocks}, latent ${s.latent}, codes ${s.num_codes}, support ${s.support.bins} bins`;
        process.stdout.write(
          [
            `checkpoint ${m.id}  version ${m.version}${m.parent_id ? ` (from ${m.parent_id})` : ''}`,
            `  directory      ${ck.dir} (every file matches its sha256)`,
            `  architecture   ${m.architecture_id}: ${arch}`,
            `  feature set    ${m.feature_set} (hash ${m.feature_hash})`,
            `  trained        ${m.training_steps} steps, ${m.episodes} episodes on ${m.backend}`,
            `  evaluation     ${m.evaluation ? JSON.stringify(m.evaluation) : 'none'}`,
            ...(m.search ? [`  search         ${m.search.simulations} simulations, Gumbel c_scale ${m.search.c_scale}, min_q_range ${m.search.min_q_range} (evaluated and served with)`] : []),
            `  provenance     config ${m.config_hash}, hyper-parameters ${m.hyperparameters_hash}, git ${m.git_commit ?? 'unknown'}, created ${m.created_at}`,
          ].join('\n') + '\n',
        );
      }),
    );

  common(c.command('export'))
    .description('write the ONNX graphs (initial, decision, chance) of a checkpoint and a model.json describing them')
    .argument('<checkpoint>', REF_HELP)
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'print JSON: {"id", "dir", "files"}')
    .action(
      action(async (ref: string, o: CommonOpts & { out: string }) => {
        const ctx = makeContext(o);
        const ck = await openCheckpoint(await ctx.openStore(), ref);
        const net = muzeroNetwork(ck);
        mkdirSync(o.out, { recursive: true });
        const files: string[] = [];
        const graphs: Record<string, unknown> = {};
        for (const g of GRAPH_NAMES) {
          const file = onnxFile(g);
          writeFileSync(path.join(o.out, file), net.onnx[g]);
          files.push(file);
          graphs[g] = { file, sha256: ck.meta.files[file].sha256, inputs: net.spec.graphs[g].inputs, outputs: graphOutputs(net.spec, g) };
        }
        writeFileSync(path.join(o.out, 'model.json'), `${JSON.stringify({ ...summary(ck.meta), architecture: ck.spec, graphs }, null, 2)}\n`);
        files.push('model.json');
        if (o.json) printJson({ id: ck.meta.id, dir: path.resolve(o.out), files });
        else process.stdout.write(`exported ${ck.meta.id} to ${o.out}: ${files.join(', ')}\n`);
      }),
    );

  common(c.command('prune'))
    .description('keep the last K and the best N by evaluation SQN (checkpoints.keep_last / keep_best); delete the rest')
    .option('--keep-last <k>', 'keep the K most recent (default checkpoints.keep_last)', parseInteger('--keep-last', 1))
    .option('--keep-best <n>', 'keep the N best by evaluation SQN (default checkpoints.keep_best)', parseInteger('--keep-best', 0))
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .option('--json', 'print JSON: {"kept": [...], "removed": [...], "dry_run"}')
    .action(
      action(async (o: CommonOpts & { keepLast?: number; keepBest?: number; dryRun?: boolean }) => {
        const ctx = makeContext(o);
        const r = await pruneCheckpoints(await ctx.openStore(), {
          keepLast: o.keepLast ?? ctx.config.checkpoints.keep_last,
          keepBest: o.keepBest ?? ctx.config.checkpoints.keep_best,
          dryRun: o.dryRun,
        });
        if (o.json) printJson({ ...r, dry_run: Boolean(o.dryRun) });
        else process.stdout.write(`${o.dryRun ? 'would remove' : 'removed'} ${r.removed.length} checkpoint(s)${r.removed.length ? `: ${r.removed.join(', ')}` : ''}; kept ${r.kept.length}\n`);
      }),
    );

  common(c.command('init'))
    .description('save a randomly initialised checkpoint of the configured architecture for a feature set')
    .requiredOption('--seed <s>', 'seed of the initial weights', parseInteger('--seed', 0))
    .option('--feature-set <name>', 'feature set whose observations it reads (default features.default_set)')
    .addOption(new Option('--algo <name>', 'the learner whose network it holds').choices(['muzero', 'ppo']).default('muzero'))
    .option('--json', 'print the checkpoint metadata as JSON')
    .action(
      action(async (o: CommonOpts & { seed: number; featureSet?: string; algo: 'muzero' | 'ppo' }) => {
        const ctx = makeContext(o);
        const { meta, dir } = await initCheckpoint(await ctx.openStore(), ctx.config, { seed: o.seed, featureSet: o.featureSet, algo: o.algo });
        if (o.json) printJson({ ...summary(meta), dir });
        else process.stdout.write(`checkpoint ${meta.id} (version ${meta.version}, architecture ${meta.architecture_id}, feature set ${meta.feature_set}) saved in ${dir}\n`);
      }),
    );
}
