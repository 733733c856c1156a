"""The finale: the live vote at the conference and the show around it.

`polls` checks what organisers and voters send; `views` turns a poll into what each kind
of screen is shown; `hub` fans those views out live; `countdown` closes a poll at its
closing time; `poll_cache` keeps polls by join code for a moment; `finalist_import`
reads finalists from an uploaded file; `theme` is the look organisers give the show.
Counting itself is `live.tally`.
"""
