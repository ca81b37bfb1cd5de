"""Workload: diff two revisions of a document, make patches and apply them, as a sync tool does."""

from _text import words
from diff_match_patch import diff_match_patch

OLD = "\n".join(" ".join(words(12, line)) for line in range(1500))
NEW = "\n".join(
    " ".join(words(12, line + (1 if line % 9 == 0 else 0))) + (" extra" if line % 13 == 0 else "")
    for line in range(1500)
    if line % 17
)

dmp = diff_match_patch()
dmp.Diff_Timeout = 0  # deterministic: never stop early on time
for _ in range(16):
    diffs = dmp.diff_main(OLD, NEW)
    dmp.diff_cleanupSemantic(diffs)
    patches = dmp.patch_make(OLD, diffs)
    applied, ok = dmp.patch_apply(patches, OLD)
print(len(diffs), len(patches), all(ok), applied == NEW)
