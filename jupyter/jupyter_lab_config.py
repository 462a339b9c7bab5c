"""JupyterLab's configuration for this project, in effect when tools/lab.sh (which `make lab` runs) puts this
folder first on JUPYTER_CONFIG_PATH. A first launch then asks nothing and fetches nothing from the internet:

- The lab's default settings are those of lab-settings/overrides.json (this folder is made the lab's
  application settings folder): news are never fetched, so JupyterLab does not ask "Would you like to get
  notified about official Jupyter news?", and the lab does not check for a newer JupyterLab. These are
  defaults: a user may still change them under Settings, saved in the user's own settings as usual.
- The server fetches no news feed and asks PyPI for no newer version either.
"""
from pathlib import Path

c = get_config()  # noqa: F821 - traitlets defines get_config for a config file

c.LabApp.app_settings_dir = str(Path(__file__).resolve().parent / "lab-settings")
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
