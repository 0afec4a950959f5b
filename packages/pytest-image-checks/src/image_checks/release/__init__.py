"""The release checks: the signed, attested release in its registry is the image that was tested.

Run after the image checks, with the same reports folder and the release record:
``pytest --pyargs image_checks.release --image REF --release FILE --image-reports DIR``.
"""
