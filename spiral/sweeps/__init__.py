"""Parameter sweeps: sweep files, designs, execution on cores or Dask, results, sensitivity."""
