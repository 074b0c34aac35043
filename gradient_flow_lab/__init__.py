"""Gradient Flow Lab: exact backpropagation through time for RNN, LSTM and GRU, in numpy.

The one import package of the distribution: `gradient_flow_lab.core` (numpy only) computes,
`gradient_flow_lab.app` serves it over HTTP. In a checkout, `app/`, `core/`, `static/` and
`templates/` are this package's sub-directories by symbolic links, so the repository keeps its
layout and an installed wheel holds nothing at the top of site-packages but this package.
"""

import os

# One BLAS thread per run, set before numpy loads. A run is thousands of small matrix
# products; concurrency comes from serving runs side by side (threads, workers). With
# OpenBLAS's default of one thread per core, its spinning threads fight any other load on
# the machine: measured on a busy 2-core machine, an LSTM run (B=32, T=1000, H=128) took
# 6–27 s with 2 BLAS threads and 0.9 s with 1. An explicit setting in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
