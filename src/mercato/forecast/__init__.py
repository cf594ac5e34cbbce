"""Per-SKU demand forecasting: demand series from events, baseline, statistical and gradient-boosted
models behind one contract, P10/P50/P90 intervals, rolling-origin backtests and inventory advice."""
