"""pytest configuration: one fix for nbval, active whenever this file is loaded.

nbval 0.11 sends every cell to the kernel with ``store_history=False``. IPython decides whether a
trailing ``;`` hides a cell's result by looking at the last cell *stored in the history*, so under
nbval ``ax.legend();`` publishes its result although Jupyter and nbconvert (which wrote the stored
outputs) hide it, and the cell fails with "Unexpected output fields ... text/plain". Known upstream:
computationalmodelling/nbval#194 and ipython/ipython#14162, both open. We make nbval send cells with
``store_history=True``, as Jupyter does; execution counts are not compared by nbval, so nothing else
changes.

It lives at the repository root so that every pytest run in the repository loads it, a run over
a single notebook included.
"""
try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval not installed: nothing to fix
    RunningKernel = None


def _execute_cell_input_with_history(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


if RunningKernel is not None and hasattr(RunningKernel, "execute_cell_input"):
    RunningKernel.execute_cell_input = _execute_cell_input_with_history
