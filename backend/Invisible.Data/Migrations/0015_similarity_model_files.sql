-- A tenant's similarity model is ML.NET's model file (the trained transformer with its input schema, which names the
-- features). Models stored before have none: they no longer match the trainer's fingerprint and are retrained on the
-- next reconcile. weights keeps the file's linear weights in readable form.
alter table similarity_models add column model_file bytea;
comment on column similarity_models.model_file is 'ML.NET model file (mlContext.Model.Save) the engine scores with; null for models stored before ML.NET';
comment on column similarity_models.weights is 'feature name -> weight, plus the intercept, as read from model_file (for people; the engine loads model_file)';
