"""Local media storage whose files appear whole or not at all."""

import contextlib
import os
import tempfile

from django.core.files.storage import FileSystemStorage


class AtomicFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that writes each file under a temporary name in its folder, then links it into place.

    A web server or a job reading the folder sees a file whole or not at all, and a job killed half-way
    leaves no truncated file under the real name for its retry to trust. As with FileSystemStorage, an
    existing file is never replaced (unless `allow_overwrite`): the link fails and another name is chosen.
    Object storage (S3) needs none of this: a put is atomic there.
    """

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                for chunk in content.chunks():
                    file.write(chunk if isinstance(chunk, bytes) else chunk.encode())
            os.chmod(temporary, self.file_permissions_mode or 0o644)
            name = self._link_into_place(temporary, name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                # Linked into place (or failed): the temporary name goes either way.
                os.unlink(temporary)
        self._ensure_location_group_id(self.path(name))
        return name

    def _link_into_place(self, temporary, name):
        while True:
            full_path = self.path(name)
            if self._allow_overwrite:
                os.replace(temporary, full_path)
                break
            try:
                # A hard link, unlike rename, fails when the name exists instead of replacing it.
                os.link(temporary, full_path)
                break
            except FileExistsError:
                name = self.get_available_name(name)
        # Relative to the storage root, with forward slashes, as FileSystemStorage returns names.
        return os.path.relpath(full_path, self.location).replace(os.sep, "/")
