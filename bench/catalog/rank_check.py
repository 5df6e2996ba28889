#!/usr/bin/env python3
# bench/catalog/rank_check.py - whether the data catalogue's relevance
# (FTS5's bm25 over od_search, fields weighed 10, 4, 2, 1, as
# catalog/search.c ranks free text) can be computed outside FTS5 from what a
# node would keep in memory: each document's length in tokens (the sum of
# od_search_docsize's column sizes) and, for each query token, its documents
# with their weighted counts (fts5vocab's instance rows). It recomputes
# bm25 in FTS5's own order of operations (k1 1.2, b 0.75, idf floored at
# 1e-6) for the documents holding every token, compares each double with
# FTS5's, and prints the times of each read. Read-only; not a test.
#
#   bench/catalog/rank_check.py CATALOGUE.db TOKEN [TOKEN...]
#
# (a token as the search module writes it: a CJK bigram such as 统计, or a
# lower-case Latin word). The catalogue: a SQLite store of dgov, e.g. one
# kept by bench/catalog/run.sh with BENCH_KEEP.
import math
import sqlite3
import sys
import time

FIELDS = ["title", "tags", "notes", "res"]
WEIGHTS = [10.0, 4.0, 2.0, 1.0]
K1, B = 1.2, 0.75


def varints(blob):
    """SQLite's varints (FTS5's docsize record: one size a column)."""
    out, i = [], 0
    while i < len(blob):
        v = 0
        for k in range(9):
            c = blob[i]
            i += 1
            if k == 8:
                v = (v << 8) | c
                break
            v = (v << 7) | (c & 0x7F)
            if not c & 0x80:
                break
        out.append(v)
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__ or "usage: rank_check.py CATALOGUE.db TOKEN [TOKEN...]")
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    toks = sys.argv[2:]
    t0 = time.time()
    size = {doc: sum(varints(sz)) for doc, sz in db.execute("SELECT id, sz FROM od_search_docsize")}
    t1 = time.time()
    nrow = len(size)
    avgdl = sum(size.values()) / nrow
    db.execute("CREATE VIRTUAL TABLE temp.vi USING fts5vocab(main, od_search, instance)")
    freqs = []
    for tok in toks:
        freq = {}
        for doc, col in db.execute("SELECT doc, col FROM temp.vi WHERE term = ?", (tok,)):
            freq[doc] = freq.get(doc, 0.0) + WEIGHTS[FIELDS.index(col)]
        freqs.append(freq)
    t2 = time.time()
    idfs = []
    for freq in freqs:
        idf = math.log((nrow - len(freq) + 0.5) / (len(freq) + 0.5))
        idfs.append(idf if idf > 0.0 else 1e-6)
    mine = {}
    for doc in set.intersection(*[set(f) for f in freqs]):
        d = float(size[doc])
        score = 0.0
        for idf, freq in zip(idfs, freqs):
            f = freq[doc]
            score += idf * ((f * (K1 + 1.0)) / (f + K1 * (1 - B + B * d / avgdl)))
        mine[doc] = score
    t3 = time.time()
    match = "(" + " AND ".join('("%s")' % t for t in toks) + ")"
    fts = dict(db.execute("SELECT rowid, -bm25(od_search, 10, 4, 2, 1) FROM od_search"
                          " WHERE od_search MATCH ?", (match,)))
    t4 = time.time()
    same = sum(1 for doc, r in fts.items() if mine.get(doc) == r)
    print("%s: %d documents of %d; FTS5 %d matches, the same double for %d; "
          "sizes %.0f ms, instances %.0f ms, rank %.0f ms, FTS5's ranked read %.0f ms"
          % (" ".join(toks), len(mine), nrow, len(fts), same, 1000 * (t1 - t0),
             1000 * (t2 - t1), 1000 * (t3 - t2), 1000 * (t4 - t3)))
    sys.exit(0 if same == len(fts) == len(mine) else 1)


if __name__ == "__main__":
    main()
