"""GET /v1/forecasts/{sku} over a forecast trained from the store by `mercato forecast train`."""

import json

from mercato.cli import main
from mercato.importers import bundled_online_retail_path
from mercato.serving import create_app
from mercato.serving.testing import client_class, settings_for


def test_forecast_endpoint_answers_reloads_and_refuses_bad_input(tmp_path, capsys):
    settings = settings_for(tmp_path)
    client = client_class()(create_app(settings))
    with client:
        response = client.get("/v1/forecasts/85123A")
        assert response.status_code == 404 and "mercato forecast train" in response.text

        store = settings.store_url
        # About two weeks of December 2010, forecast per day, four days ahead.
        assert main(["--store", store, "import", "online-retail", str(bundled_online_retail_path()), "--limit", "25000"]) == 0
        assert main(["--store", store, "forecast", "train", "--model", "moving_average", "--horizon", "4", "--freq", "D",
                     "--timezone", "Europe/London", "--model-dir", str(settings.model_dir / "forecast")]) == 0
        capsys.readouterr()

        response = client.get("/v1/forecasts/85123A", params={"horizon": 2, "lead_time": 2, "stock": 0})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert len(answer["forecast"]) == 2
        assert all(row["p10"] <= row["p50"] <= row["p90"] for row in answer["forecast"])
        assert answer["inventory"]["reorder_now"] is True

        assert client.get("/v1/forecasts/NO-SUCH-SKU").status_code == 404
        bad = client.get("/v1/forecasts/85123A", params={"horizon": 0})
        assert bad.status_code == 422 and "horizon" in bad.text
        too_far = client.get("/v1/forecasts/85123A", params={"horizon": 99})
        assert 400 <= too_far.status_code < 500 and "horizon" in too_far.text
        assert client.get("/v1/forecasts/85123A", params={"service_level": 1.5}).status_code == 422

        artifact = settings.model_dir / "forecast" / "forecasts.json"
        stored = json.loads(artifact.read_text())
        stored["digest"] = "0" * 64
        artifact.write_text(json.dumps(stored))  # the changed file is re-read, and refused
        assert client.get("/v1/forecasts/85123A").status_code == 409
