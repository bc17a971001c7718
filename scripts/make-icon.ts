// Draws resources/icon.png (512 x 512): two memory pages, one shared frame. Run with
// `npx tsx scripts/make-icon.ts`; the PNG is committed, so building needs no canvas.
import { writeFileSync } from 'node:fs'
import { createCanvas } from '@napi-rs/canvas'

const S = 512
const c = createCanvas(S, S)
const g = c.getContext('2d')
const page = (x: number, y: number, fill: string) => {
  g.fillStyle = fill
  g.beginPath()
  g.roundRect(x, y, 230, 300, 28)
  g.fill()
  g.fillStyle = 'rgba(255,255,255,0.85)'
  for (let i = 0; i < 5; i++) g.fillRect(x + 36, y + 60 + i * 44, 158 - (i % 2) * 50, 16)
}
g.fillStyle = '#0f2740'
g.beginPath()
g.roundRect(16, 16, S - 32, S - 32, 96)
g.fill()
page(70, 110, '#2f6fb0')
page(212, 102, '#3aa17e')
g.globalAlpha = 0.9
g.fillStyle = '#f5c542'
g.beginPath()
g.arc(256, 420, 34, 0, Math.PI * 2)
g.fill()
writeFileSync(new URL('../resources/icon.png', import.meta.url), c.toBuffer('image/png'))
