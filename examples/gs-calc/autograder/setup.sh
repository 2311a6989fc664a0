#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# Assay runs it once per worker machine: `assay gradescope setup DIR`.
# This autograder needs nothing beyond python3.
command -v python3 >/dev/null || apt-get install -y python3
