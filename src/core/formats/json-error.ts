/**
 * Where and why a text is not JSON (RFC 8259), as `line:column: message`, without echoing the
 * text: JSON.parse's own message quotes a snippet of the input, raw newlines and all, which both
 * breaks the one-line rule and shows file contents. Called only after JSON.parse has failed;
 * iterative (an explicit stack), so deep nesting cannot overflow.
 */

export interface JsonSyntaxError {
  /** 1-based line and column (columns count UTF-16 code units, as editors mostly do). */
  line: number
  column: number
  message: string
}

/** The first syntax error in `text`, or null when it is JSON after all. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0
  const n = text.length
  const at = (pos: number, message: string): JsonSyntaxError => {
    let line = 1
    let lineStart = 0
    for (let k = 0; k < pos && k < n; k++) {
      if (text.charCodeAt(k) === 10) {
        line++
        lineStart = k + 1
      }
    }
    return { line, column: pos - lineStart + 1, message }
  }
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 32 || c === 9 || c === 10 || c === 13) i++
      else break
    }
  }
  const what = (pos: number): string => {
    if (pos >= n) return 'the end of the file'
    const c = text.charCodeAt(pos)
    if (c < 32 || c === 127) return 'a control character'
    if (c > 126) return 'a non-ASCII character'
    return `'${text[pos]}'`
  }
  const str = (): JsonSyntaxError | null => {
    const start = i
    i++ // opening quote
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 34) {
        i++
        return null
      }
      if (c < 32) return at(i, c === 10 ? 'a line break inside a string (unterminated string?)' : 'a control character inside a string (write it as \\u00XX)')
      if (c === 92) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return at(i, 'a \\u escape needs four hex digits')
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else return at(i, 'an unknown escape in a string')
        continue
      }
      i++
    }
    return at(start, 'a string that is never closed')
  }
  const num = (): JsonSyntaxError | null => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m || m[0] === '-' || m[0] === '') return at(i, 'a malformed number')
    i += m[0].length
    return null
  }
  // Containers waiting for their next part: 'o' object, 'a' array.
  const stack: ('o' | 'a')[] = []
  const value = (): JsonSyntaxError | null => {
    ws()
    if (i >= n) return at(i, 'unexpected end of the file: a value is missing')
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
        return null
      }
      stack.push('o')
      return key()
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return null
      }
      stack.push('a')
      return null
    }
    if (c === '"') return str()
    if (c === '-' || (c >= '0' && c <= '9')) return num()
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length
        return null
      }
    }
    return at(i, `expected a value, found ${what(i)}`)
  }
  const key = (): JsonSyntaxError | null => {
    ws()
    if (text[i] !== '"') return at(i, `expected a property name in double quotes, found ${what(i)}`)
    const e = str()
    if (e) return e
    ws()
    if (text[i] !== ':') return at(i, `expected ':' after the property name, found ${what(i)}`)
    i++
    return null
  }
  let needsValue = true
  for (;;) {
    if (needsValue) {
      const depth = stack.length
      const e = value()
      if (e) return e
      // A container just opened (and not empty) has its first part pending.
      needsValue = stack.length > depth
      continue
    }
    // After a value: continue or close the innermost container, or expect the end.
    if (stack.length === 0) {
      ws()
      return i < n ? at(i, `unexpected ${what(i)} after the end of the JSON value`) : null
    }
    const top = stack[stack.length - 1]
    ws()
    const c = text[i]
    if (c === ',') {
      i++
      if (top === 'o') {
        const e = key()
        if (e) return e
      }
      needsValue = true
      continue
    }
    if ((top === 'o' && c === '}') || (top === 'a' && c === ']')) {
      i++
      stack.pop()
      continue
    }
    return at(i, `expected ',' or '${top === 'o' ? '}' : ']'}', found ${what(i)}`)
  }
}
