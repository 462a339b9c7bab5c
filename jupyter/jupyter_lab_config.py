"""JupyterLab's configuration for this project, in effect when tools/lab.sh (which `make lab` runs) puts this
folder first on JUPYTER_CONFIG_PATH. A first launch then asks nothing, and fetches no news and no update:

- The lab's application settings folder is lab-settings/ (instead of the installed lab's own
  share/jupyter/lab/settings, which this project's install does not create). Its overrides.json sets two
  defaults: news are never fetched, so JupyterLab does not ask "Would you like to get notified about
  official Jupyter news?", and the lab does not check for a newer JupyterLab. A user may still change
  them under Settings; such changes are saved in the user's own settings, as usual.
- The server fetches no news feed and asks PyPI for no newer version either.
"""
from pathlib import Path

c = get_config()  # noqa: F821 - traitlets defines get_config for a config file

c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "lab-settings")
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
