"""The classifier: locating, checking and downloading model sets, the ONNX ensemble, INT8
quantisation. Imports only the shared core modules.
"""
