"""The vault as a library: host code calls it in-process, with the rules of HTTP (``docs/embedding.md``).

.. code-block:: python

    api = vault.api(user=user_id, session=db_session)  # in the host's transaction; session=None: each call commits
    media = await api.media.upload(pathlib.Path("photo.jpg"), tags=["order-42"])

Outside an app (a script, a job), ``async with vault.running():`` starts what the app's lifespan would.
"""

from mediavault.inprocess.api import CollectionsAPI, MediaAPI, Page, SharesAPI, UsersAPI, VaultAPI
from mediavault.inprocess.sources import UploadSource

__all__ = ("CollectionsAPI", "MediaAPI", "Page", "SharesAPI", "UploadSource", "UsersAPI", "VaultAPI")
