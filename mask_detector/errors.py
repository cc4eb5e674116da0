"""Exception types of the public API: callers catch MaskDetectorError for every user error."""


class MaskDetectorError(Exception):
    """Base of every error caused by input, files or set-up rather than by a bug."""


class InvalidImageError(MaskDetectorError, ValueError):
    """The bytes or array given are not an image this library can read."""


class InvalidBoxError(MaskDetectorError, ValueError):
    """A face box given to the classifier has no pixel inside the image."""


class ImageTooLargeError(InvalidImageError):
    """The image has more pixels than the configured limit (decompression-bomb guard)."""


class ModelLoadError(MaskDetectorError):
    """The classifier or detector model file is missing or unreadable."""


class DetectorUnavailableError(ModelLoadError):
    """A detector was asked for whose model file cannot be found or fetched."""


class DatasetError(MaskDetectorError):
    """A data set folder does not have the expected layout or has no readable images."""
