-- A model is judged on labelled pairs it was not fitted on: training holds one pair in five back (seeded, so the same
-- training set holds back the same pairs) and records how the model decides them at the resolver's acceptance
-- probability. Settings -> Matching model shows these next to the version, the pairs fitted and when it was trained.
-- Models stored before have none (null) and are retrained on the next reconcile (the trainer's recipe changed).
alter table similarity_models
    add column held_back_pairs     integer not null default 0 check (held_back_pairs >= 0),
    add column held_back_precision double precision check (held_back_precision between 0 and 1),
    add column held_back_recall    double precision check (held_back_recall between 0 and 1);
comment on column similarity_models.training_examples is 'labelled pairs the model was fitted on (the held-back ones not included)';
comment on column similarity_models.held_back_pairs is 'labelled pairs held back from fitting to measure the model on';
comment on column similarity_models.held_back_precision is 'of the held-back pairs the model called the same vendor, the share that are; null when it called none so';
comment on column similarity_models.held_back_recall is 'of the held-back pairs that are the same vendor, the share the model called so; null when none were held back';
