"""Reading what other school systems export (OneRoster CSV files). Pure: plain data in, plain data out;
applying it to the hub's database is a service's job."""
