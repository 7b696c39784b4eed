# Writes tests/data/r_lazyload/: small lazy-load databases made by R itself,
# one per compression R offers, which tests/test_r_lazyload.py reads with
# tools/r_lazyload.py. Run from the repository root (Debian: r-base-core):
#
#     Rscript tools/make_r_lazyload_goldens.R
objects <- new.env()
assign("novel", c("CHAPTER 1", "", "It was a caf\u00e9 by the sea.", NA), objects)
assign("named", c(first = "one", second = "two"), objects)
assign("numbers", list(count = 3L, ratio = 0.25, flags = c(TRUE, FALSE, NA)), objects)
assign("nothing", NULL, objects)
assign("latin1", iconv("na\u00efve", "UTF-8", "latin1"), objects)
for (compression in 1:3) {
  prefix <- file.path("tests/data/r_lazyload", paste0("compress", compression))
  tools:::makeLazyLoadDB(objects, prefix, compress = compression)
}
