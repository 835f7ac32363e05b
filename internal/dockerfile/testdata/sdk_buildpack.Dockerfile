# dockvet-test rules=DV1015
# buildpack-deps' -curl and -scm variants hold no compiler.
# ok DV1015
FROM buildpack-deps:bookworm-scm AS scm
# want DV1015 "buildpack-deps:bookworm, which ships compilers and headers"
FROM buildpack-deps:bookworm
