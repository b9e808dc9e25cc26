// sharp doing what a web-2048 rendition is: one pipeline per photo, turned upright, long edge
// 2048 without enlarging, sRGB, metadata stripped (sharp's default), JPEG.
// Usage: node publish.mjs ROUNDS QUALITY FILE...   Prints per-round wall and CPU seconds as JSON.
import { readFileSync } from "node:fs";
import sharp from "sharp";

const [rounds, quality, ...files] = process.argv.slice(2);
sharp.concurrency(1);
sharp.cache(false);

const seconds = [];
const cpu = [];
for (let round = 0; round < Number(rounds); round++) {
  const start = process.hrtime.bigint();
  const used = process.cpuUsage();
  for (const file of files) {
    await sharp(readFileSync(file))
      .rotate()
      .resize({ width: 2048, height: 2048, fit: "inside", withoutEnlargement: true })
      .toColourspace("srgb")
      .jpeg({ quality: Number(quality), optimiseCoding: false })
      .toBuffer();
  }
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  const spent = process.cpuUsage(used);
  cpu.push((spent.user + spent.system) / 1e6);
}
console.log(JSON.stringify({ seconds, cpu, version: sharp.versions.sharp }));
