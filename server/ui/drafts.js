// Unsaved edits, kept in localStorage so that a reload, a crash or a closed
// tab loses nothing. A draft remembers the version and text it was based
// on: saving sends that version, so a change made meanwhile by someone else
// is answered 409 and shown as a conflict instead of being overwritten.

// Keys are per user ("tocky.draft.{user}.{segment id}"): on a shared
// computer, one stenographer's drafts are never offered to the next.
let PREFIX = 'tocky.draft.-.';

/** Whose drafts are read and written from now on. */
export function setDraftOwner(user) {
  PREFIX = `tocky.draft.${encodeURIComponent(user || '-')}.`;
}

/** {text, version, base_text, saved_at} or null. */
export function loadDraft(segmentId) {
  try {
    const raw = localStorage.getItem(PREFIX + segmentId);
    if (!raw) return null;
    const d = JSON.parse(raw);
    return d && typeof d.text === 'string' && Number.isInteger(d.version) ? d : null;
  } catch {
    return null;
  }
}

export function saveDraft(segmentId, draft) {
  try {
    localStorage.setItem(PREFIX + segmentId, JSON.stringify({ ...draft, saved_at: new Date().toISOString() }));
    return true;
  } catch {
    return false; // storage full or disabled: the draft still lives in the page
  }
}

export function removeDraft(segmentId) {
  try {
    localStorage.removeItem(PREFIX + segmentId);
  } catch {
    /* nothing to do */
  }
}

/** Ids of all segments with a stored draft (one pass over storage). */
export function draftIds() {
  const ids = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key && key.startsWith(PREFIX)) {
        const id = Number(key.slice(PREFIX.length));
        if (Number.isInteger(id)) ids.push(id);
      }
    }
  } catch {
    /* storage disabled */
  }
  return ids;
}
