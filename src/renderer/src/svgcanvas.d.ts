// svgcanvas (zenozeng/svgcanvas) ships no types: the part of its API the figure export uses.
declare module 'svgcanvas' {
  /** A canvas-like element whose 2D context records drawing calls as SVG elements. */
  export class Element {
    constructor(options: { width: number; height: number; document?: Document })
    width: number
    height: number
    getContext(type: '2d'): Context
  }
  export class Context {
    /** The SVG document of everything drawn so far. */
    getSerializedSvg(fixNamedEntities?: boolean): string
  }
}
