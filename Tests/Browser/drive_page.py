"""Drives ChainRule's interactive page in a real headless Chromium through Selenium.

usage: python drive_page.py PAGE_URL ACTIONS_JSON OUTPUT_JSON

ACTIONS_JSON is a list of actions, run in order on one browser window 1280 x 800:
  {"do": "load", "fragment": "#step=3"}       open PAGE_URL + fragment (a fresh load)
  {"do": "next"} / {"do": "previous"}         click the step buttons
  {"do": "slider", "keys": 4}                 focus the slider, press the right arrow 4 times
                                              (negative: the left arrow)
  {"do": "clickNode", "name": "z2"}           click the drawn node whose label starts with
                                              that name, in the frame on screen
  {"do": "choosePath", "value": "w1[0,0]"}    choose an element in the explain menu
  {"do": "screenshot", "path": "/tmp/x.png"}  save the window as PNG

After every action the script records what the DOM shows (texts of the step label and title,
the details panel, the explain panel, the fragment, the visible frame, the nodes and edges
highlighted in it) and writes the list of records to OUTPUT_JSON. The Swift test
(PageBrowserTests) decides what is right; this script only acts and observes.
"""

import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

OBSERVE = """
const text = id => { const e = document.getElementById(id); return e ? e.textContent : null; };
const frame = [...document.querySelectorAll('.frame')].filter(f => !f.hidden);
const visible = frame.length === 1 ? frame[0] : null;
const titles = selector => visible ?
  [...visible.querySelectorAll(selector)].map(g => g.querySelector('title').textContent) : [];
return {
  fragment: location.hash,
  visibleFrames: frame.map(f => Number(f.dataset.step)),
  slider: Number(document.getElementById('slider').value),
  stepLabel: text('step-label'),
  stepTitle: text('step-title'),
  detailsShown: !document.getElementById('detail-body').hidden,
  name: text('detail-name'),
  op: text('detail-op'),
  operands: text('detail-operands'),
  verdict: text('detail-verdict'),
  verdictClass: document.getElementById('detail-verdict').className,
  value: text('detail-value'),
  gradStatus: text('detail-status'),
  grad: text('detail-grad'),
  edges: [...document.querySelectorAll('#detail-edges .edge-detail')].map(e => ({
    from: e.querySelector('.from').textContent,
    label: e.querySelector('.label').textContent,
    numbers: e.querySelector('.numbers') ? e.querySelector('.numbers').textContent : ''})),
  pathShown: !document.getElementById('path-text').hidden,
  pathText: text('path-text'),
  pathSummary: text('path-summary'),
  pathChoice: document.getElementById('path').value,
  highlightedNodes: titles('g.node.on-path'),
  highlightedEdges: titles('g.edge.on-path'),
  selectedNodes: titles('g.node.selected'),
};
"""


def visible_node(driver, name):
    """The <g class="node"> of the frame on screen whose label's first text is `name`."""
    for group in driver.find_elements(By.CSS_SELECTOR, ".frame:not([hidden]) g.node"):
        texts = group.find_elements(By.TAG_NAME, "text")
        if texts and texts[0].text == name:
            return group
    raise SystemExit("drive_page: no node named %r in the frame on screen" % name)


def main():
    url, actions_path, output_path = sys.argv[1:4]
    with open(actions_path, encoding="utf-8") as handle:
        actions = json.load(handle)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--hide-scrollbars", "--window-size=1280,800",
                     "--force-device-scale-factor=1"]:
        options.add_argument(argument)
    service = Service(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    # The window's inner size exactly 1280 x 800 CSS pixels, whatever the headless frame.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    records = []
    try:
        for action in actions:
            kind = action["do"]
            if kind == "load":
                # A fresh document each time: a fragment-only change would not reload.
                driver.get("about:blank")
                driver.get(url + action.get("fragment", ""))
            elif kind == "next":
                driver.find_element(By.ID, "next").click()
            elif kind == "previous":
                driver.find_element(By.ID, "previous").click()
            elif kind == "slider":
                slider = driver.find_element(By.ID, "slider")
                key = Keys.ARROW_RIGHT if action["keys"] >= 0 else Keys.ARROW_LEFT
                # send_keys focuses the slider without clicking it (a click would move it).
                for _ in range(abs(action["keys"])):
                    slider.send_keys(key)
            elif kind == "clickNode":
                visible_node(driver, action["name"]).click()
            elif kind == "choosePath":
                Select(driver.find_element(By.ID, "path")).select_by_value(action["value"])
            elif kind == "screenshot":
                driver.save_screenshot(action["path"])
            else:
                raise SystemExit("drive_page: unknown action %r" % kind)
            record = driver.execute_script(OBSERVE)
            record["action"] = kind
            records.append(record)
    finally:
        driver.quit()
    with open(output_path, "w", encoding="utf-8") as handle:
        json.dump(records, handle, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
