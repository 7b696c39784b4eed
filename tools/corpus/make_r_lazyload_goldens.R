# Writes tests/data/r_lazyload/: small lazy-load databases made by R itself,
# one per compression R offers, which tests/tools/test_r_lazyload.py reads with
# tools/corpus/r_lazyload.py. Run from the repository root (Debian: r-base-core):
#
#     Rscript tools/corpus/make_r_lazyload_goldens.R
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

# Package-shaped databases for the corpus builder's novel readers
# (tests/data/r_lazyload/site-library/<package>/data/Rdata.*).
package_data <- function(package, objects) {
  folder <- file.path("tests/data/r_lazyload/site-library", package, "data")
  dir.create(folder, recursive = TRUE, showWarnings = FALSE)
  tools:::makeLazyLoadDB(objects, file.path(folder, "Rdata"), compress = TRUE)
}
novels <- new.env()
assign("emma", c("EMMA", "", "VOLUME I", "", "CHAPTER I", "",
                 "Emma Woodhouse, handsome, clever, and rich, had a",
                 "comfortable home.", "", "She was the youngest daughter.",
                 "", "FINIS", "", "Transcriber's note."), novels)
assign("persuasion", c("Persuasion", "", "Chapter 1", "",
                       "Sir Walter Elliot never read any book but one.",
                       "", "Chapter 2", "", "Mr Shepherd was a lawyer."),
       novels)
package_data("janeaustenr", novels)
whale <- new.env()
assign("mobydick", c(mobydick = paste(
  "The Project Gutenberg EBook of Moby Dick", "",
  "*** START OF THIS PROJECT GUTENBERG EBOOK MOBY DICK ***", "",
  "ETYMOLOGY.", "", "The pale Usher was dusting his lexicons.", "",
  "CHAPTER 1. Loomings.", "", "Call me Ishmael. Some years ago I went",
  "to sea.", "", "Epilogue", "", "The drama's done. Why then here does",
  "any one step forth?", "",
  "*** END OF THIS PROJECT GUTENBERG EBOOK MOBY DICK ***", "",
  "You may copy it under the terms of the licence.", sep = "\r\n")), whale)
package_data("tokenizers", whale)
