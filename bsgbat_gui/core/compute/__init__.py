"""Work off the GUI process: the helper process that runs jobs, and the jobs it runs
(analysis, spectrograms, model-set checks). The top layer: may use every other one.
"""
