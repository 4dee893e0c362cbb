from . import test_entry_points, test_website_tour
