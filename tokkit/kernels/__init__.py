"""Hot loops as kernels (numba on CPU, triton on GPU), each beside a plain reference implementation."""
