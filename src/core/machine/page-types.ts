/**
 * What a guest page holds, as one small integer per page (the guest OS model's page types,
 * guests/guest.ts). Here, below the formats, because memory traces and snapshots name page
 * types too (formats/trace.ts) and formats know nothing of the guest model.
 */
export const PT_FREE = 0
export const PT_PAGECACHE = 1
export const PT_TEXT = 2
export const PT_ANON = 3
export const PT_KERNEL = 4
