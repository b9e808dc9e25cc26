// sharp, driven the way the original Node worker did it: one resize pipeline per size.
// Usage: node thumbnails.mjs ROUNDS QUALITY OPTIMISE(true|false) AVIF(true|false) FILE...
// Prints per-round wall and CPU seconds as JSON.
import { readFileSync } from "node:fs";
import sharp from "sharp";

const [rounds, quality, optimise, avif, ...files] = process.argv.slice(2);
const widths = [1200, 600, 200];
const avifWidths = avif === "true" ? [640, 400] : []; // the grid's AVIF sizes (store/keys.py), quality 45 at effort 0 as ours
const AVIF_QUALITY = 45;
sharp.concurrency(1); // one libvips thread: the benchmark compares work on one core
sharp.cache(false);

async function thumbnails(file) {
  const input = readFileSync(file);
  for (const width of widths) {
    await sharp(input)
      .rotate()
      .resize({ width, withoutEnlargement: true })
      .jpeg({ quality: Number(quality), optimiseCoding: optimise === "true" })
      .toBuffer();
  }
  for (const width of avifWidths) {
    await sharp(input)
      .rotate()
      .resize({ width, withoutEnlargement: true })
      .avif({ quality: AVIF_QUALITY, effort: 0 })
      .toBuffer();
  }
}

const seconds = [];
const cpu = [];
for (let round = 0; round < Number(rounds); round++) {
  const start = process.hrtime.bigint();
  const used = process.cpuUsage();
  for (const file of files) await thumbnails(file);
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  const spent = process.cpuUsage(used);
  cpu.push((spent.user + spent.system) / 1e6);
}
console.log(JSON.stringify({ seconds, cpu, version: sharp.versions.sharp }));
