-- Custom SQL migration file, put your code below! --
-- The five first-party widgets became widgets declared by their plugins and the host (D-047):
-- their overlay tokens now open `<pluginId>/<widgetId>`, so the URLs streamers have in OBS keep working.
UPDATE "api_tokens"
SET "scope" = jsonb_set("scope", '{widget}', to_jsonb(CASE "scope"->>'widget' WHEN 'counters' THEN 'host/counters' ELSE ("scope"->>'widget') || '/' || ("scope"->>'widget') END))
WHERE "kind" = 'overlay' AND "scope"->>'widget' IN ('alerts', 'chat', 'goals', 'leaderboard', 'counters');
