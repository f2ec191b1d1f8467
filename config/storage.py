from servestatic.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files, with the imports inside ES modules rewritten to the hashed
    names too, so a deploy never mixes a new module with an old one from a browser's cache."""

    support_js_module_import_aggregation = True
