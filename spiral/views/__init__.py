"""Views: pictures, the animation, the report, customer stories and console tables."""
