"""Recordings: probing and reading files (time expansion, RIFF/GUANO/WAMD metadata), GUANO
write-back, resampling to the model rate, the display and model spectrograms, segment windows
and playback. Imports only the shared core modules.
"""
