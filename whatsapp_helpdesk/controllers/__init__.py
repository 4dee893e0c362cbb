from . import fast_path, main

fast_path.install()
